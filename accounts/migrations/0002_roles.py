from django.db import migrations

from accounts.roles import sync_roles


def noop(apps, schema_editor) -> None:
    """Groups are left in place on reverse; they hold no data of their own."""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("audit", "0002_initial"),
        ("billing", "0002_initial"),
        ("customers", "0001_initial"),
        ("support", "0001_initial"),
        ("sync", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles, noop)]
