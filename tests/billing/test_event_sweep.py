"""The event sweeper re-sends an event only once its wake-up has had time to arrive."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import EventStatus, StripeEvent
from billing.services.processing import events_due
from tests.factories import StripeEventFactory

pytestmark = pytest.mark.django_db


def _received(seconds_ago: int) -> StripeEvent:
    event = StripeEventFactory(status=EventStatus.RECEIVED)
    StripeEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(seconds=seconds_ago))
    return event


def test_an_unprocessed_event_is_due_once_it_is_older_than_the_configured_grace(settings):
    settings.STRIPE_EVENT_SWEEP_GRACE_SECONDS = 5
    fresh, stuck = _received(2), _received(10)
    assert events_due() == [stuck.pk]
    assert fresh.pk not in events_due()


def test_the_default_grace_leaves_a_recent_event_to_its_own_wake_up(settings):
    assert settings.STRIPE_EVENT_SWEEP_GRACE_SECONDS == 60
    recent, stuck = _received(30), _received(90)
    assert events_due() == [stuck.pk]
    assert recent.pk not in events_due()


def _woken(event: StripeEvent, seconds_ago: int) -> StripeEvent:
    StripeEvent.objects.filter(pk=event.pk).update(woken_at=timezone.now() - timedelta(seconds=seconds_ago))
    return event


def test_an_event_whose_wake_up_is_still_in_flight_is_not_sent_again(settings):
    settings.STRIPE_EVENT_SWEEP_GRACE_SECONDS = 60
    in_flight, lost = _woken(_received(600), 30), _woken(_received(600), 61)
    assert events_due() == [lost.pk]
    assert in_flight.pk not in events_due()


def test_a_retry_that_came_due_after_its_last_wake_up_gets_a_new_one():
    now = timezone.now()
    event = StripeEventFactory(status=EventStatus.FAILED, next_attempt_at=now - timedelta(seconds=1))
    StripeEvent.objects.filter(pk=event.pk).update(woken_at=now - timedelta(seconds=10))
    assert events_due() == [event.pk]
    StripeEvent.objects.filter(pk=event.pk).update(woken_at=now)  # the sweep sent it
    assert events_due() == []


@pytest.fixture
def events_queue():
    """Publish for real (no eager worker) to this run's broker; ``events_queue()`` counts the
    wake-ups waiting in the events queue."""
    from config.celery import EVENTS_QUEUE, app
    from core.outages import BROKER

    def waiting() -> int:
        with app.connection_for_write() as conn:
            return conn.default_channel.queue_declare(queue=EVENTS_QUEUE, passive=True).message_count

    app.conf.task_always_eager = False
    BROKER.answered()
    with app.connection_for_write() as conn:
        conn.default_channel.queue_declare(queue=EVENTS_QUEUE, durable=True, auto_delete=False)
        conn.default_channel.queue_purge(EVENTS_QUEUE)
    yield waiting
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(EVENTS_QUEUE)
    app.conf.task_always_eager = True


def test_sweeping_again_and_again_leaves_one_wake_up_per_waiting_event_until_it_looks_lost(settings, events_queue):
    import time_machine

    from billing.tasks import sweep_events

    settings.STRIPE_EVENT_SWEEP_GRACE_SECONDS = 60
    stuck = [_received(90) for _ in range(3)]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert sweep_events() == 3
        for _ in range(3):  # beat's next sweeps, while nobody takes the wake-ups
            traveller.shift(timedelta(seconds=20))
            assert sweep_events() == 0
        assert events_queue() == 3
        # The broker lost them (a restart without persistence): sent again once the lease is over.
        traveller.shift(timedelta(seconds=1))
        assert sweep_events() == 3
    assert events_queue() == 6
    assert all(e.woken_at is not None for e in StripeEvent.objects.filter(pk__in=[e.pk for e in stuck]))
