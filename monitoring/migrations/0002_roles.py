"""Roles are written after every migrate (accounts.apps: sync_roles on post_migrate), not here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial"), ("accounts", "0002_roles")]

    operations = []
