"""The content type of ActionItemState follows the model to action_queue.

django-auditlog's entries and the model's permissions point at the content type
row; renaming it keeps them attached. A content type left under customers would be
stale, and removing stale content types would delete those entries with it.
"""

from django.db import migrations


def _move(apps, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    if ContentType.objects.filter(app_label=target, model="actionitemstate").exists():
        return  # already there (a fresh database makes it after migrating): nothing to carry over
    ContentType.objects.filter(app_label=source, model="actionitemstate").update(app_label=target)


def forward(apps, schema_editor) -> None:
    _move(apps, source="customers", target="action_queue")


def backward(apps, schema_editor) -> None:
    _move(apps, source="action_queue", target="customers")


class Migration(migrations.Migration):

    dependencies = [
        ("action_queue", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forward, backward)]
