"""A customer's events are applied in Stripe's order even when two workers take them at once: an event
whose customer still has an earlier one waiting is held, and applied right after that one settles.

Without it, a customer's "subscription created" applied before their "customer created" plans its
outbound work from nothing, and the same stream gives different work depending on which worker won.
"""

import pytest
from celery import current_app
from django.urls import reverse

from billing.models import EventStatus, StripeEvent
from billing.services.processing import HELD, event_process, event_replay, events_due, events_process
from sync.models import SyncJob
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_worker():
    """The door stores and returns: nothing applies the events until the test says so."""
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    yield
    current_app.conf.task_always_eager = eager


def _stored(client, *events: dict) -> list[StripeEvent]:
    for evt in events:
        assert se.post(client, evt).status_code == 200
    return [StripeEvent.objects.get(stripe_id=evt["id"]) for evt in events]


def _a_new_customer(cid: str) -> tuple[dict, dict]:
    return (se.event("customer.created", se.customer(cid, email=f"{cid}@example.com"), created=1_700_000_000),
            se.event("customer.subscription.created", se.subscription(f"sub_{cid}", cid), created=1_700_000_000))


def _jobs(event: StripeEvent) -> list[tuple[str, str]]:
    return sorted(SyncJob.objects.filter(source_event=event).values_list("system", "action"))


def test_the_door_records_whose_event_it_is(client, no_worker):
    created, sub = _stored(client, *_a_new_customer("cus_ORDER0"))
    charge = _stored(client, se.event("charge.succeeded", se.charge("ch_ORDER0", None)))[0]
    assert (created.stripe_customer_id, sub.stripe_customer_id) == ("cus_ORDER0", "cus_ORDER0")
    assert charge.stripe_customer_id == ""


def test_a_later_event_taken_first_waits_and_follows_the_earlier_one(client, no_worker, owner):
    in_order = _stored(client, *_a_new_customer("cus_ORDER1"))
    events_process(event_ids=[e.pk for e in in_order])
    expected = _jobs(in_order[1])
    assert len(expected) == 6  # plan, status and access change from a customer who had none

    created, sub = _stored(client, *_a_new_customer("cus_ORDER2"))
    assert event_process(event_id=sub.pk) == HELD
    sub.refresh_from_db()
    assert sub.status == EventStatus.RECEIVED and sub.next_attempt_at and sub.woken_at
    assert SyncJob.objects.filter(source_event=sub).count() == 0

    client.force_login(owner)
    page = client.get(reverse("event_detail", args=[sub.pk])).content.decode()
    assert "waiting for an earlier event of the same customer" in page

    assert event_process(event_id=created.pk) == EventStatus.PROCESSED
    sub.refresh_from_db()
    assert sub.status == EventStatus.PROCESSED and sub.next_attempt_at is None
    assert _jobs(sub) == expected
    assert "waiting for an earlier event" not in client.get(reverse("event_detail", args=[sub.pk])).content.decode()


def test_a_failing_earlier_event_does_not_keep_the_customers_later_ones_waiting(client, no_worker):
    unreadable = se.charge("ch_ORDER3", "cus_ORDER3")
    unreadable["amount"] = "12.50"  # a payload that fails the same way every time: it waits for a person
    charge, created = _stored(client, se.event("charge.succeeded", unreadable, created=1_600_000_000),
                              _a_new_customer("cus_ORDER3")[0])
    assert event_process(event_id=created.pk) == HELD
    assert event_process(event_id=charge.pk) == EventStatus.FAILED
    created.refresh_from_db()
    assert created.status == EventStatus.PROCESSED


def test_a_replay_asked_for_by_a_person_is_applied_at_once(client, no_worker):
    created, sub = _stored(client, *_a_new_customer("cus_ORDER4"))
    assert event_replay(event=sub, source="ui") == EventStatus.PROCESSED
    created.refresh_from_db()
    assert created.status == EventStatus.RECEIVED


def test_a_held_event_whose_release_never_came_is_woken_by_the_sweeper(client, no_worker, settings):
    from datetime import timedelta

    from django.utils import timezone

    created, sub = _stored(client, *_a_new_customer("cus_ORDER5"))
    assert event_process(event_id=sub.pk) == HELD
    assert sub.pk not in events_due()  # its hold counts as a wake-up in flight
    later = timezone.now() + timedelta(seconds=settings.STRIPE_EVENT_SWEEP_GRACE_SECONDS + 5)
    StripeEvent.objects.filter(pk__in=[created.pk, sub.pk]).update(received_at=timezone.now() - timedelta(hours=1))
    assert {created.pk, sub.pk} <= set(events_due(now=later))
    assert events_process(event_ids=[sub.pk, created.pk]) == [EventStatus.PROCESSED, EventStatus.PROCESSED]


def test_events_of_other_customers_and_ignored_types_never_hold_one(client, no_worker):
    other = _stored(client, se.event("customer.created", se.customer("cus_ORDER6"), created=1_600_000_000))[0]
    ignored = _stored(client, se.event("customer.tax_id.created", {"object": "tax_id", "id": "txi_1",
                                                                   "customer": "cus_ORDER7"}, created=1_600_000_000))[0]
    created = _stored(client, _a_new_customer("cus_ORDER7")[0])[0]
    assert ignored.stripe_customer_id == "cus_ORDER7"
    assert event_process(event_id=created.pk) == EventStatus.PROCESSED
    other.refresh_from_db()
    assert other.status == EventStatus.RECEIVED


def test_a_held_event_released_after_a_batch_still_comes_before_the_customers_later_ones(client, no_worker):
    """The release waits for the batch's look at held events; the customer's later event in the batch
    is held behind the released one, so the three are applied in Stripe's order."""
    made, created = _a_new_customer("cus_ORDER8")
    sub = created["data"]["object"]
    updated = se.event("customer.subscription.updated", {**sub, "cancel_at_period_end": True},
                       created=1_700_000_001)
    made, created, updated = _stored(client, made, created, updated)
    assert event_process(event_id=created.pk) == HELD  # taken first by another worker
    events_process(event_ids=[made.pk, updated.pk])
    applied = sorted(StripeEvent.objects.filter(pk__in=[made.pk, created.pk, updated.pk]),
                     key=lambda e: e.processed_at)
    assert [(e.pk, e.status) for e in applied] == [
        (e.pk, EventStatus.PROCESSED) for e in (made, created, updated)]
