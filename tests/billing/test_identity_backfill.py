"""Customers that existed before identity evidence get what billing's mirrors say, once, on migrate."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("customers", "0006_customer_search_trigram"), ("billing", "0006_invoice_failed_open_idx")]


def migrate(targets=None):
    """Move the schema to ``targets`` (default: every app's latest) and return the models as they were there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_existing_customers_get_their_mirrors_identity_and_keep_their_email_as_seen():
    old = migrate(BEFORE)
    Customer, StripeCustomer = old.get_model("customers", "Customer"), old.get_model("billing", "StripeCustomer")
    last_event = datetime(2026, 1, 2, tzinfo=UTC)
    mirrored = Customer.objects.create(public_id="sw_mirrored", email="ada@example.com", name="Ada",
                                       last_event_at=last_event)
    for n, (email, name, day) in enumerate([("", "Ada L.", 3), ("ada@example.com", "", 1)]):
        StripeCustomer.objects.create(stripe_id=f"cus_{n}", customer=mirrored, email=email, name=name,
                                      last_event_created=datetime(2026, 1, day, tzinfo=UTC))
    unmirrored = Customer.objects.create(public_id="sw_plain", email="bo@example.com", last_event_at=last_event)

    new = migrate()
    evidence = {c.public_id: c.identity_evidence for c in new.get_model("customers", "Customer").objects.all()}
    as_of = [last_event.timestamp(), 0, ""]
    assert evidence["sw_mirrored"] == {
        "stated": {"email": "ada@example.com", "name": "Ada L."},  # per field, the newest mirror saying any
        "seen": {"email": ["ada@example.com", as_of], "name": ["Ada", as_of]},
    }
    assert evidence[unmirrored.public_id] == {"stated": {}, "seen": {"email": ["bo@example.com", as_of]}}
