"""The content type of Drift follows the model to billing.

Its default permissions point at the content type row; renaming it keeps them attached, where a
row left under monitoring would be stale and removing stale content types would delete them.
"""

from django.db import migrations


def _move(apps, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=target, model="drift").exists():
        return  # already there (a fresh database makes it after migrating): nothing to carry over
    ContentType.objects.filter(app_label=source, model="drift").update(app_label=target)


def forward(apps, schema_editor) -> None:
    _move(apps, source="monitoring", target="billing")


def backward(apps, schema_editor) -> None:
    _move(apps, source="billing", target="monitoring")


class Migration(migrations.Migration):

    dependencies = [
        ("billing", "0008_drift_from_monitoring"),
        ("monitoring", "0006_drift_to_billing"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forward, backward)]
