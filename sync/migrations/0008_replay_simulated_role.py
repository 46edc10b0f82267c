from django.db import migrations

from accounts.roles import sync_roles


def noop(apps, schema_editor) -> None:
    """Groups are left in place on reverse; they hold no data of their own."""


class Migration(migrations.Migration):
    """The owner role may send simulated jobs to the real tool."""

    dependencies = [("sync", "0007_simulated_jobs"), ("accounts", "0002_roles")]

    operations = [migrations.RunPython(sync_roles, noop)]
