"""The worker's watchdog, one tick at a time: it beats for the worker, and stands in for a silent
scheduler (alerts and sweeps) and for nothing else."""

from datetime import timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from billing.models import EventStatus, StripeEvent
from monitoring import heartbeats
from monitoring.heartbeats import heartbeat_ages, heartbeat_record
from monitoring.models import Heartbeat, Incident
from monitoring.watchdog import Watchdog, watchdog_tick
from sync.models import JobStatus, SyncJob
from tests import stripe_events as se
from tests.factories import StripeEventFactory, SyncJobFactory
from tests.monitoring.conftest import slack_texts

pytestmark = pytest.mark.django_db


def lost_work() -> tuple[SyncJob, StripeEvent]:
    """A due job and a stored event whose wake-ups were lost: only a sweep finds them."""
    job = SyncJobFactory(status=JobStatus.PENDING, next_attempt_at=timezone.now() - timedelta(minutes=1))
    payload = se.event("customer.created", se.customer("cus_watchdog", email="ada@example.com"))
    event = StripeEventFactory(status=EventStatus.RECEIVED, stripe_id=payload["id"], type=payload["type"],
                               payload=payload)
    StripeEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    return job, event


def test_with_the_scheduler_beating_the_watchdog_only_records_the_workers_heartbeat(channels):
    lost_work()
    SyncJobFactory(status=JobStatus.DEAD)
    with time_machine.travel(timezone.now() + timedelta(seconds=30), tick=False):
        heartbeat_record(name="scheduler")
        assert watchdog_tick() is False
        assert heartbeat_ages()["worker"] == 0
    assert not Incident.objects.exists() and slack_texts(channels) == []
    assert SyncJob.objects.filter(status=JobStatus.PENDING).exists()  # sweeping is beat's job while it lives


def test_with_the_scheduler_silent_the_watchdog_alerts_once_and_sweeps(channels, settings):
    job, event = lost_work()
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 1)):
        assert watchdog_tick() is True
        assert watchdog_tick() is True
    texts = slack_texts(channels)
    assert len(texts) == 1 and texts[0].startswith("[Switchboard] Incident opened: The scheduler (celery beat)")
    job.refresh_from_db()
    event.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED  # woken by the watchdog's sweep and run (sandbox)
    assert event.status == EventStatus.PROCESSED


def test_the_watchdog_thread_beats_until_it_is_stopped(transactional_db, settings):
    settings.ALERT_EVALUATE_SECONDS = 0.05
    heartbeat_record(name="scheduler")
    dog = Watchdog(settings.ALERT_EVALUATE_SECONDS)
    dog.start()
    try:
        from tests.sync.servers import wait_for

        wait_for(_worker_beat_seen, "the watchdog's first beat", timeout=10)
    finally:
        dog.stop()
    assert not dog.thread.is_alive()


def _worker_beat_seen() -> bool:
    try:
        return heartbeat_ages()["worker"] is not None
    except OperationalError as exc:
        # The test database is SQLite in memory with a shared cache: while the watchdog's thread
        # writes its beat, the table is locked to this connection at once (no busy wait). Look again.
        if "locked" not in str(exc):
            raise
        return False


def test_a_fresh_start_gives_the_scheduler_the_stale_limit_before_standing_in(channels, settings):
    job, _ = lost_work()
    Heartbeat.objects.filter(name=Heartbeat.SCHEDULER).delete()  # a new install: beat has never beaten
    with time_machine.travel(heartbeats.WATCHING_SINCE + timedelta(seconds=5), tick=False):
        assert watchdog_tick() is False  # beat has not shown itself yet: not silent, nothing said
    assert not Incident.objects.exists() and slack_texts(channels) == []
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 1)):
        assert watchdog_tick() is True
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
