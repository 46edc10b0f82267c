"""New events reach the events workers without a message from the door: a watcher in each events
worker claims them once and sends them in batches; a batch applies several customers' events,
each on its own, a customer's in Stripe's order."""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import EventStatus, StripeEvent
from billing.services.processing import events_claim_new, events_process
from tests import stripe_events as se
from tests.factories import StripeEventFactory
from tests.sync.servers import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def events_queue(settings):
    """Publish for real (no eager worker) to this run's broker; ``events_queue()`` lists every message
    sent to the events queue so far, as the argument each carries."""
    from config.celery import EVENTS_QUEUE, app
    from core.outages import BROKER

    seen: list = []

    def waiting() -> list:
        with app.connection_for_write() as conn:
            while (message := conn.default_channel.basic_get(EVENTS_QUEUE, no_ack=True)) is not None:
                seen.append(message.decode()[0][0])
        return seen

    app.conf.task_always_eager = False
    BROKER.answered()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_declare(queue=EVENTS_QUEUE, durable=True, auto_delete=False)
        conn.default_channel.queue_purge(EVENTS_QUEUE)
    yield waiting
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(EVENTS_QUEUE)
    app.conf.task_always_eager = True
    BROKER.answered()


def _stored(n: int) -> list[StripeEvent]:
    return [StripeEventFactory(status=EventStatus.RECEIVED) for _ in range(n)]


def test_the_door_stores_an_event_and_sends_no_message(client, events_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = se.post(client, se.event("customer.created", se.customer(se.new_id("cus"))))
    assert response.status_code == 200
    event = StripeEvent.objects.get()
    assert event.status == EventStatus.RECEIVED and event.woken_at is None
    assert events_queue() == []


def test_new_events_are_sent_once_in_batches_of_the_configured_size(settings, events_queue):
    from billing.tasks import events_wake_new

    settings.STRIPE_EVENT_BATCH_SIZE = 2
    events = _stored(5)
    assert events_wake_new() == 5
    # the embedded broker does not keep publish order between messages: the batches, in any order
    assert sorted(events_queue()) == [[e.pk for e in events[0:2]], [e.pk for e in events[2:4]], [events[4].pk]]
    assert events_wake_new() == 0  # each has its wake-up in flight: never a second one
    assert len(events_queue()) == 3
    assert not StripeEvent.objects.filter(woken_at__isnull=True).exists()


def test_with_the_broker_down_new_events_are_left_for_the_next_look(settings, events_queue, broker_down):
    from billing.tasks import events_wake_new
    from core.outages import BROKER

    events = _stored(3)
    assert events_wake_new() == 0
    assert StripeEvent.objects.filter(pk__in=[e.pk for e in events], woken_at__isnull=True).count() == 3
    assert BROKER.down


def test_only_received_events_without_a_wake_up_are_claimed():
    new = _stored(2)
    StripeEventFactory(status=EventStatus.PROCESSED)
    StripeEventFactory(status=EventStatus.IGNORED)  # e.g. a live-mode event on a test-mode install
    StripeEventFactory(status=EventStatus.RECEIVED, woken_at=timezone.now())  # its wake-up is in flight
    assert events_claim_new(limit=10) == [e.pk for e in new]
    assert events_claim_new(limit=10) == []
    assert all(e.woken_at is not None for e in StripeEvent.objects.filter(pk__in=[e.pk for e in new]))


def test_a_claim_takes_at_most_its_limit_oldest_first():
    events = _stored(3)
    assert events_claim_new(limit=2) == [events[0].pk, events[1].pk]
    assert events_claim_new(limit=2) == [events[2].pk]


def _deliver_stored(client, payload: dict) -> StripeEvent:
    """Stored by the door, not yet applied: the test's transaction never commits, so nothing runs after it."""
    assert se.post(client, payload).status_code == 200
    return StripeEvent.objects.get(stripe_id=payload["id"], status=EventStatus.RECEIVED)


def test_a_batch_applies_the_events_of_several_customers(client):
    stored = [_deliver_stored(client, se.event("customer.created", se.customer(se.new_id("cus")))) for _ in range(3)]
    assert events_process(event_ids=[e.pk for e in stored]) == [EventStatus.PROCESSED] * 3
    customers = {e.customer_id for e in StripeEvent.objects.filter(pk__in=[e.pk for e in stored])}
    assert len(customers) == 3 and None not in customers


def test_a_customers_events_in_one_batch_are_applied_in_stripes_order_whatever_the_arrival(client):
    cus = se.new_id("cus")
    at = int((timezone.now() - timedelta(hours=1)).timestamp())
    sub = se.subscription(se.new_id("sub"), cus)
    # Delivered (stored) in the reverse of the order they happened in.
    updated = _deliver_stored(client, se.event("customer.subscription.updated", sub, created=at + 5))
    created = _deliver_stored(client, se.event("customer.subscription.created", sub, created=at))
    made = _deliver_stored(client, se.event("customer.created", se.customer(cus), created=at - 1))
    events_process(event_ids=[updated.pk, created.pk, made.pk])
    applied = sorted(StripeEvent.objects.filter(pk__in=[updated.pk, created.pk, made.pk]), key=lambda e: e.processed_at)
    assert [e.pk for e in applied] == [made.pk, created.pk, updated.pk]
    assert {e.status for e in applied} == {EventStatus.PROCESSED}


def test_one_events_failure_in_a_batch_leaves_the_others_applied():
    broken = StripeEventFactory(status=EventStatus.RECEIVED, type="customer.created")  # no data.object
    good = StripeEventFactory(
        status=EventStatus.RECEIVED, type="customer.created",
        payload=se.event("customer.created", se.customer(se.new_id("cus"))),
    )
    assert sorted(events_process(event_ids=[broken.pk, good.pk])) == [EventStatus.FAILED, EventStatus.PROCESSED]
    broken.refresh_from_db()
    good.refresh_from_db()
    assert broken.status == EventStatus.FAILED and good.status == EventStatus.PROCESSED


@pytest.mark.django_db(transaction=True)
def test_a_busy_worker_leaves_new_events_in_the_database_for_its_next_batch(settings, events_queue):
    """While no process could start a batch, the watcher claims nothing; once one is free, what
    arrived meanwhile leaves as one batch."""
    from billing.tasks import EventWatcher

    settings.STRIPE_EVENT_BATCH_SIZE = 20
    busy = threading.Event()
    busy.set()
    watcher = EventWatcher(0.01, busy=busy.is_set)
    watcher.thread.start()
    try:
        events = _stored(3)
        looks = watcher.looks_skipped + 5
        wait_for(lambda: watcher.looks_skipped >= looks, "the watcher to skip its looks", timeout=30)
        assert StripeEvent.objects.filter(woken_at__isnull=True).count() == 3
        assert events_queue() == []
        events += _stored(2)
        busy.clear()
        wait_for(lambda: not StripeEvent.objects.filter(woken_at__isnull=True).exists(),
                 "the watcher to claim the waiting events", timeout=30)
    finally:
        watcher.stop()
    assert events_queue() == [[e.pk for e in events]]


def test_a_worker_is_busy_while_each_of_its_processes_runs_a_task():
    """Celery's count of the tasks its pool has taken (kept in the worker's main process)."""
    from celery.worker import state

    from billing.tasks import pool_busy

    class Request:  # what Celery's bookkeeping reads of a request
        def __init__(self, n: int) -> None:
            self.id, self.name = f"request-{n}", "billing.process_event"

    running = [Request(n) for n in range(2)]
    assert not pool_busy(2)
    state.task_accepted(running[0])
    assert not pool_busy(2) and pool_busy(1)
    state.task_accepted(running[1])
    assert pool_busy(2)
    state.task_ready(running[0])
    assert not pool_busy(2)
    state.task_ready(running[1])
    assert not pool_busy(1)
