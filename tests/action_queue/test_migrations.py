"""ActionItemState moved from customers to action_queue: its rows stay in their table, its content
type follows it (django-auditlog's entries point at it), and the move goes back as cleanly."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("customers", "0007_customer_identity_evidence"), ("action_queue", None)]
AFTER = [("action_queue", "0002_contenttype")]


def _migrate(targets):
    """Migrate to ``targets``; the models as they stand there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    nodes = [target for target in targets if target[1] is not None]
    return executor.loader.project_state([*nodes, ("contenttypes", "0002_remove_content_type_name")]).apps


def _labels(apps) -> set[str]:
    ContentType = apps.get_model("contenttypes", "ContentType")
    return set(ContentType.objects.filter(model="actionitemstate").values_list("app_label", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_the_rows_and_the_content_type_and_goes_back():
    old = _migrate(BEFORE)
    assert _labels(old) == {"customers"}  # going back renamed it too
    old.get_model("customers", "ActionItemState").objects.create(kind="dead_job", object_id="7", resolved_note="Rotated")

    new = _migrate(AFTER)
    assert _labels(new) == {"action_queue"}
    state = new.get_model("action_queue", "ActionItemState").objects.get(kind="dead_job", object_id="7")
    assert state.resolved_note == "Rotated"

    old = _migrate(BEFORE)
    assert _labels(old) == {"customers"}
    assert old.get_model("customers", "ActionItemState").objects.filter(object_id="7").exists()
    # Going back also undid every later customers migration: end on the newest schema, as found.
    latest = MigrationExecutor(connection)
    latest.migrate(latest.loader.graph.leaf_nodes())
