"""The event catalog is Switchboard's own, stable and documented: ten types, each with an example
carrying our customer id, the linked ids and the causing event, and each in docs/webhooks.md."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from webhooks import catalog

README = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
DOCUMENTED = [
    "customer.created", "customer.status_changed", "customer.plan_changed", "payment.succeeded",
    "payment.failed", "refund.succeeded", "dispute.opened", "dispute.closed", "ticket.opened",
    "customer.merged",
]


def test_the_catalog_holds_exactly_the_documented_types():
    assert [event.name for event in catalog.CATALOG] == DOCUMENTED


@pytest.mark.parametrize("name", DOCUMENTED)
def test_each_example_carries_the_customer_the_linked_ids_and_the_cause(name):
    payload = catalog.example(name)
    assert payload["type"] == name
    assert payload["data"]["customer"]
    assert payload["data"]["linked"]["stripe"].startswith("cus_")
    assert set(payload["data"]["cause"]) == {"source", "id"}
    assert json.loads(catalog.body(payload)) == payload


@pytest.mark.parametrize("name", DOCUMENTED)
def test_each_type_and_its_example_are_in_the_readme(name):
    text = README.read_text()
    assert f"`{name}`" in text
    assert json.dumps(catalog.example(name), indent=2, sort_keys=True) in text


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError):
        catalog.envelope("m", "customer.exploded", datetime.now(timezone.utc),
                         customer="c", linked={}, cause={}, fields={})


def test_a_replayed_cause_is_the_same_fact_and_each_endpoint_gets_its_own_delivery():
    cause = {"source": "stripe", "id": "evt_1"}
    first = catalog.fact_id("payment.failed", "c-1", cause)
    assert first == catalog.fact_id("payment.failed", "c-1", dict(cause))
    assert first != catalog.fact_id("payment.failed", "c-1", {"source": "stripe", "id": "evt_2"})
    assert first != catalog.fact_id("dispute.opened", "c-1", cause)
    assert first != catalog.fact_id("payment.failed", "c-2", cause)
    assert catalog.delivery_key(first, 1) != catalog.delivery_key(first, 2)
    assert catalog.delivery_key(first, 1) == catalog.delivery_key(first, "1")
