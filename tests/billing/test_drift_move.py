"""Drift moved from monitoring to billing (billing finds and resolves it; monitoring alerts on it): its rows
stay in their table, its content type follows it, and the move goes back as cleanly."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("billing", "0007_customer_identity_from_mirrors"), ("monitoring", "0005_incident_sent_on")]
AFTER = [("billing", "0009_drift_contenttype")]


def _migrate(targets):
    """Migrate to ``targets``; the models as they stand there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state([*targets, ("contenttypes", "0002_remove_content_type_name")]).apps


def _labels(apps) -> set[str]:
    ContentType = apps.get_model("contenttypes", "ContentType")
    return set(ContentType.objects.filter(model="drift").values_list("app_label", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_move_keeps_the_rows_and_the_content_type_and_goes_back():
    old = _migrate(BEFORE)
    assert _labels(old) == {"monitoring"}  # going back renamed it too
    old.get_model("monitoring", "Drift").objects.create(object_type="charge", stripe_id="ch_1", kind="amount",
                                                        field="amount", found_at=timezone.now())

    new = _migrate(AFTER)
    assert _labels(new) == {"billing"}
    assert new.get_model("billing", "Drift").objects.get(stripe_id="ch_1").field == "amount"

    old = _migrate(BEFORE)
    assert _labels(old) == {"monitoring"}
    assert old.get_model("monitoring", "Drift").objects.filter(stripe_id="ch_1").exists()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # every app's latest again, for the tests after this one
