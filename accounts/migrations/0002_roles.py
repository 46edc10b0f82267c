"""Roles are written after every migrate (accounts.apps: sync_roles on post_migrate), not here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("audit", "0002_initial"),
        ("billing", "0002_initial"),
        ("customers", "0001_initial"),
        ("support", "0001_initial"),
        ("sync", "0001_initial"),
    ]

    operations = []
