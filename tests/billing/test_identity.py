"""Email and name come from billing's facts, passed down to customers: Stripe's customer object
first, then the newest value any other object carried. Never from re-reading the event log."""

from itertools import permutations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import EventStatus, StripeEvent
from billing.services import event_process
from customers.models import Customer
from tests import stripe_events as se
from tests.billing.state import reset_billing

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000


def identity(stripe_customer_id: str) -> tuple[str, str]:
    customer = Customer.objects.get(links__external_id=stripe_customer_id)
    return customer.email, customer.name


def every_order(deliver, events: list[dict]) -> set[tuple[str, str]]:
    """The identity each delivery order ends with (the same set of events each time)."""
    outcomes = set()
    for order in permutations(events):
        reset_billing()
        for evt in order:
            deliver(evt)
        outcomes.add(identity("cus_I"))
    return outcomes


def test_without_a_customer_object_the_newest_email_any_object_carried_wins_in_every_order(deliver):
    events = [
        se.event("checkout.session.completed", se.checkout_session("cs_I", "cus_I", email="first@example.com",
                                                                     name="Ada Lovelace", api_version="2024-06-20"),
                 created=T0),
        se.event("charge.succeeded", se.charge("ch_I", "cus_I", receipt_email="second@example.com"), created=T0 + 5),
        se.event("invoice.paid", se.invoice("in_I", "cus_I", None, email="newest@example.com"), created=T0 + 10),
    ]
    assert every_order(deliver, events) == {("newest@example.com", "Ada Lovelace")}


def test_stripes_customer_object_wins_over_a_newer_email_on_another_object(deliver):
    events = [
        se.event("customer.created", se.customer("cus_I", email="stated@example.com", name="Ada"), created=T0),
        se.event("invoice.paid", se.invoice("in_I", "cus_I", None, email="billing-desk@example.com"), created=T0 + 10),
    ]
    assert every_order(deliver, events) == {("stated@example.com", "Ada")}


def test_where_the_customer_object_says_nothing_the_other_objects_decide(deliver):
    events = [
        se.event("customer.created", se.customer("cus_I", email=None, name="Acme Ltd"), created=T0 + 20),
        se.event("checkout.session.completed", se.checkout_session("cs_I", "cus_I", email="buyer@example.com"),
                 created=T0),
    ]
    assert every_order(deliver, events) == {("buyer@example.com", "Acme Ltd")}


def test_a_later_customer_update_replaces_the_email_whatever_the_order(deliver):
    events = [
        se.event("customer.created", se.customer("cus_I", email="old@example.com"), created=T0),
        se.event("customer.updated", se.customer("cus_I", email="new@example.com"), created=T0 + 1),
        se.event("invoice.paid", se.invoice("in_I", "cus_I", None, email="old@example.com"), created=T0 + 2),
    ]
    assert {email for email, _ in every_order(deliver, events)} == {"new@example.com"}


def test_applying_an_event_reads_no_other_event_from_the_log(deliver):
    for n in range(3):  # a history the old identity refresh would have read back
        deliver(se.event("invoice.paid", se.invoice(f"in_H{n}", "cus_I", None, email=f"h{n}@example.com"),
                         created=T0 + n))
    evt = se.event("invoice.paid", se.invoice("in_new", "cus_I", None, email="now@example.com"), created=T0 + 9)
    event = StripeEvent.objects.create(stripe_id=evt["id"], type=evt["type"], api_version=evt["api_version"],
                                       livemode=False, created=Customer.objects.get().created_at, payload=evt)
    with CaptureQueriesContext(connection) as queries:
        assert event_process(event_id=event.pk) == EventStatus.PROCESSED
    log_reads = [q["sql"] for q in queries.captured_queries
                 if q["sql"].startswith("SELECT") and '"billing_stripeevent"' in q["sql"].split(" FROM ")[1][:40]]
    assert len(log_reads) == 1, log_reads  # the event's own row, locked
