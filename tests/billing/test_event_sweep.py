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
