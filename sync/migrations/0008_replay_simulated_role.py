"""Roles are written after every migrate (accounts.apps: sync_roles on post_migrate), not here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("sync", "0007_simulated_jobs"), ("accounts", "0002_roles")]

    operations = []
