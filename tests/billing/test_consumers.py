"""Billing hands each applied change to the consumers registered with it, inside the event's transaction."""

import pytest
from django.db import connection

from billing.consumers import billing_consumer_register, billing_consumer_unregister, billing_consumers
from billing.models import EventStatus, StripeEvent, Subscription
from customers.models import CustomerStatusChange
from support.models import Ticket
from sync.models import SyncJob
from tests import stripe_events as se

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000


@pytest.fixture
def register():
    """Register consumers for one test; they are gone afterwards."""
    names = []

    def _register(name, consumer):
        names.append(name)
        billing_consumer_register(name=name, consumer=consumer)

    yield _register
    for name in names:
        billing_consumer_unregister(name=name)


def test_billing_confirms_subscription_changes_then_sync_plans_jobs_then_support_plans_tickets_then_webhooks_tell():
    assert billing_consumers() == ["billing.subscription_changes", "sync.jobs", "support.tickets", "webhooks.facts"]


def test_each_consumer_hears_the_change_in_order_inside_the_events_transaction(deliver, register):
    heard = []

    def recorder(label):
        def consumer(*, change):
            heard.append((label, change.event_type, change.before["status"], change.after["status"],
                          change.customer.links.get().external_id, change.source_event.stripe_id,
                          connection.in_atomic_block, SyncJob.objects.filter(source_event=change.source_event).count()))
        return consumer

    register("test.first", recorder("first"))
    register("test.second", recorder("second"))
    evt = se.event("invoice.payment_failed", se.invoice("in_F", "cus_F", None, status="open"), created=T0)
    deliver(evt)
    # Registered after sync and support: their jobs (and the ticket's desk job) are already written.
    jobs = SyncJob.objects.filter(source_event__stripe_id=evt["id"]).count()
    assert jobs > 0 and Ticket.objects.filter(source_event__stripe_id=evt["id"]).exists()
    assert heard == [
        ("first", "invoice.payment_failed", "trial", "past_due", "cus_F", evt["id"], True, jobs),
        ("second", "invoice.payment_failed", "trial", "past_due", "cus_F", evt["id"], True, jobs),
    ]


def test_a_consumer_that_fails_fails_the_event_and_keeps_nothing_of_it(deliver, register):
    def broken(*, change):
        raise RuntimeError("consumer bug")

    register("test.broken", broken)
    evt = se.event("customer.subscription.created", se.subscription("sub_X", "cus_X", status="active"), created=T0)
    deliver(evt)
    event = StripeEvent.objects.get(stripe_id=evt["id"])
    assert event.status == EventStatus.FAILED and event.error_class == "RuntimeError"
    assert event.next_attempt_at is not None  # retried like any failure
    assert not Subscription.objects.exists() and not SyncJob.objects.exists() and not Ticket.objects.exists()
    assert not CustomerStatusChange.objects.exists()
