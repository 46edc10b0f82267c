"""The webhook event log reads a fixed number of queries however many rows it shows; applying an
event of the pipeline benchmark's shape costs a pinned number of queries, and a batch of them wakes
its jobs once per tool."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import EventStatus, StripeEvent
from billing.services.processing import event_process, events_process
from config.celery import JOBS_QUEUE, app
from core import batch
from core.outages import BROKER
from customers.models import CustomerStatus
from sync.models import SyncJob
from sync.services.outbox import wake_taken
from tests import helpers
from tests.billing.stored import subscription_created
from tests.sync.helpers import customer_with_stripe

pytestmark = pytest.mark.django_db

PAGES = {
    "events": lambda: reverse("event_list"),
}

# One customer.subscription.created for a trialling customer (the pipeline benchmark's event), in
# its transaction (BEGIN and COMMIT counted): lock and read the event, with whether any other event of
# its customer waits (none: no read for earlier ones); the customer (locked), with whether another
# customer has its email (none: no read for twins); the mirror (locked), a savepoint, its INSERT and
# audit entry, the savepoint's release; the event's outcome; the status's one read (subscriptions,
# each with whether Stripe deleted the customer and its newest invoice's failure); the customer's
# UPDATE and its audit entry (diffed against the row as locked, not read again), the status change;
# the jobs' keys (a new event's cannot be taken: not read) in one INSERT for all five.
EVENT_QUERIES = 15
# Once per batch of events (and for an event applied alone): whether any subscription change waits for
# Stripe's confirmation, the mapping and the routing rules, the enabled outbound webhook endpoints, and
# after the commits whether the batch's customers have other events waiting (one plain read for all).
BATCH_QUERIES = 5

@pytest.mark.parametrize("screen", PAGES)
def test_query_count_does_not_grow_with_the_data(client, owner, screen):
    client.force_login(owner)
    helpers.assert_queries_flat(client, PAGES[screen]())


def _stored_subscription_created() -> StripeEvent:
    """As the door stores it: with the Stripe customer id, for a trialling customer with no plan yet."""
    return subscription_created(customer_with_stripe(status=CustomerStatus.TRIAL, plan=""))


def test_applying_the_benchmarks_event_costs_a_pinned_number_of_queries(django_capture_on_commit_callbacks):
    first, event = _stored_subscription_created(), _stored_subscription_created()
    with django_capture_on_commit_callbacks(execute=False):
        event_process(event_id=first.pk)  # what a process reads once (content types)
        with CaptureQueriesContext(connection) as queries:
            assert event_process(event_id=event.pk) == EventStatus.PROCESSED
    # Not a ceiling: fewer is welcome too, and then these numbers go down with it.
    assert len(queries) == EVENT_QUERIES + BATCH_QUERIES, "\n".join(
        q["sql"][:120] for q in queries.captured_queries)
    assert SyncJob.objects.filter(source_event=event).count() == 5
    # "Same email elsewhere" is a plain read when there is no twin: the only customer row locked is its own.
    locks = [q["sql"] for q in queries.captured_queries
             if 'FROM "customers_customer"' in q["sql"] and "FOR UPDATE" in q["sql"]]
    assert len(locks) == (1 if connection.features.has_select_for_update else 0), locks


@pytest.fixture
def jobs_queue():
    """Publish for real to this run's broker; ``jobs_queue()`` returns the wake-ups sent so far, as
    (system, job ids)."""
    seen: list = []

    def queue(action: str) -> None:
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            channel.queue_declare(queue=JOBS_QUEUE, durable=True, auto_delete=False)
            if action == "purge":
                channel.queue_purge(JOBS_QUEUE)
            while action == "read" and (message := channel.basic_get(JOBS_QUEUE, no_ack=True)) is not None:
                seen.append(tuple(message.decode()[0]))
                wake_taken(seen[-1][0])  # taken off the queue, as a worker starting on it does

    def waiting() -> list:
        queue("read")
        return seen

    app.conf.task_always_eager = False
    BROKER.answered()
    queue("purge")
    yield waiting
    queue("purge")
    app.conf.task_always_eager = True
    BROKER.answered()


def _batch(n: int) -> tuple[list[StripeEvent], int]:
    """``n`` events applied as one batch; returns them and the queries the batch made."""
    events = [_stored_subscription_created() for _ in range(n)]
    with CaptureQueriesContext(connection) as queries:
        assert events_process(event_ids=[e.pk for e in events]) == [EventStatus.PROCESSED] * n
    return events, len(queries)


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_events_reads_the_rules_once_and_wakes_its_jobs_once_per_tool(jobs_queue, monkeypatch):
    monkeypatch.setattr(batch, "WAKE_WITHIN_SECONDS", 60.0)  # however slow this machine, one publish
    _batch(1)  # what a process reads once (content types, the rate buckets' rows)
    jobs_queue().clear()
    events, small = _batch(4)
    woken = list(jobs_queue())
    _, large = _batch(14)
    # Each event more costs its own queries only: the rules, the wake-ups and the look for held
    # events are the batch's.
    assert (large - small) / 10 == EVENT_QUERIES
    jobs = SyncJob.objects.filter(source_event__in=events)
    assert sorted(system for system, _ in woken) == sorted(set(jobs.values_list("system", flat=True)))
    assert sorted(pk for _, ids in woken for pk in ids) == sorted(jobs.values_list("pk", flat=True))
    assert not jobs.filter(enqueued_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_slow_batch_does_not_hold_its_first_wake_ups(jobs_queue, monkeypatch):
    monkeypatch.setattr(batch, "WAKE_WITHIN_SECONDS", 0.0)  # every event's wait is already too long
    events = [_stored_subscription_created() for _ in range(3)]
    events_process(event_ids=[e.pk for e in events])
    woken = jobs_queue()
    for event in events:  # each event's jobs were published before the next event was applied
        ids = set(SyncJob.objects.filter(source_event=event).values_list("pk", flat=True))
        assert [wake for wake in woken if set(wake[1]) & ids] == [wake for wake in woken if set(wake[1]) <= ids]


@pytest.mark.django_db(transaction=True)
def test_an_event_that_fails_in_a_batch_does_not_keep_the_others_jobs_asleep(jobs_queue):
    events = [_stored_subscription_created() for _ in range(3)]
    StripeEvent.objects.filter(pk=events[1].pk).update(payload={"id": events[1].stripe_id, "data": {}})
    outcomes = events_process(event_ids=[e.pk for e in events])
    assert sorted(outcomes) == [EventStatus.FAILED, EventStatus.PROCESSED, EventStatus.PROCESSED]
    jobs = SyncJob.objects.filter(source_event__in=[events[0], events[2]])
    assert jobs.count() == 10
    assert sorted(pk for _, ids in jobs_queue() for pk in ids) == sorted(jobs.values_list("pk", flat=True))
