"""Alert rules fire once, resolve once, and stay quiet while flapping (time moved, never slept)."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from billing.models import EventStatus
from monitoring.alerts import alerts_evaluate
from monitoring.heartbeats import heartbeat_record
from monitoring.models import Incident
from sync.models import JobStatus, SyncJob
from tests.factories import StripeEventFactory, SyncJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def channels(settings, httpserver):
    """Both channels on: email (Django's test outbox) and a Slack-compatible webhook on 127.0.0.1."""
    settings.ALERT_EMAILS = ["founder@example.com"]
    settings.ALERT_SLACK_WEBHOOK_URL = httpserver.url_for("/hooks/alerts")
    settings.ALERT_NO_WEBHOOK_MINUTES = 0
    httpserver.expect_request("/hooks/alerts", method="POST").respond_with_data("ok")
    heartbeat_record(name="worker")
    heartbeat_record(name="scheduler")
    return httpserver


def beat() -> None:
    heartbeat_record(name="worker")
    heartbeat_record(name="scheduler")


def slack_texts(httpserver) -> list[str]:
    return [json.loads(request.data)["text"] for request, _ in httpserver.log]


def test_a_dead_job_opens_one_incident_with_one_message_and_resolves_with_one_more(channels):
    job = SyncJobFactory(status=JobStatus.DEAD, reason_code="auth_failed")
    alerts_evaluate()
    alerts_evaluate()
    assert Incident.objects.filter(rule="dead_jobs", resolved_at__isnull=True).count() == 1
    assert len(mail.outbox) == 1 and "Incident opened" in mail.outbox[0].subject + mail.outbox[0].body
    assert len(slack_texts(channels)) == 1 and "/sync/jobs/?status=dead" in slack_texts(channels)[0]

    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    alerts_evaluate()
    alerts_evaluate()
    assert Incident.objects.get(rule="dead_jobs").resolved_at is not None
    assert [m.subject.split(":")[0] for m in mail.outbox] == ["[Switchboard] Incident opened", "[Switchboard] Resolved"]
    assert len(slack_texts(channels)) == 2


def test_a_rule_flapping_within_the_quiet_period_sends_nothing_more(channels, settings):
    settings.ALERT_QUIET_MINUTES = 30
    job = SyncJobFactory(status=JobStatus.DEAD)
    alerts_evaluate()
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    alerts_evaluate()
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        beat()
        SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.DEAD)
        alerts_evaluate()
        SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
        alerts_evaluate()
    assert len(mail.outbox) == 2 and Incident.objects.count() == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=90)):
        beat()
        SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.DEAD)
        alerts_evaluate()
    assert len(mail.outbox) == 3 and Incident.objects.count() == 2


def test_webhook_failures_above_two_percent_in_fifteen_minutes_fire(channels):
    StripeEventFactory.create_batch(97, status=EventStatus.PROCESSED)
    StripeEventFactory.create_batch(3, status=EventStatus.FAILED)
    open_rules = {i.rule for i in alerts_evaluate()}
    assert "webhook_failures" in open_rules
    assert "3 of 100" in Incident.objects.get(rule="webhook_failures").summary


def test_webhook_failures_at_one_percent_do_not_fire(channels):
    StripeEventFactory.create_batch(99, status=EventStatus.PROCESSED)
    StripeEventFactory.create(status=EventStatus.FAILED)
    assert "webhook_failures" not in {i.rule for i in alerts_evaluate()}


def test_rejected_signatures_count_toward_the_failure_rate(channels, client):
    from tests import stripe_events as se

    StripeEventFactory.create_batch(10, status=EventStatus.PROCESSED)
    for _ in range(3):
        se.post(client, se.body(se.event("customer.created", se.customer("cus_x"))), secret="whsec_wrong")
    assert "webhook_failures" in {i.rule for i in alerts_evaluate()}


def test_sync_lag_p95_above_five_minutes_fires(channels):
    now = timezone.now()
    for minutes in (1, 2, 9, 9, 9):
        event = StripeEventFactory(status=EventStatus.PROCESSED)
        type(event).objects.filter(pk=event.pk).update(received_at=now - timedelta(minutes=minutes))
        SyncJobFactory(status=JobStatus.SUCCEEDED, source_event=event, finished_at=now)
    assert "sync_lag" in {i.rule for i in alerts_evaluate()}


def test_silence_on_the_webhook_for_the_configured_time_fires(channels, settings):
    settings.ALERT_NO_WEBHOOK_MINUTES = 60
    StripeEventFactory(status=EventStatus.PROCESSED)
    assert "no_webhook" not in {i.rule for i in alerts_evaluate()}
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        beat()
        assert "no_webhook" in {i.rule for i in alerts_evaluate()}


def test_a_missing_worker_heartbeat_fires(channels, settings):
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 1)):
        heartbeat_record(name="scheduler")
        alerts_evaluate()
    assert Incident.objects.get(rule="heartbeat").summary == "No heartbeat from the worker"


def test_an_alert_goes_out_even_when_every_outbound_system_is_paused(channels, owner):
    from sync.services import system_pause

    system_pause(system="all", actor=owner, reason="maintenance")
    SyncJobFactory(status=JobStatus.DEAD)
    alerts_evaluate()
    assert len(slack_texts(channels)) == 1 and len(mail.outbox) == 1


def test_a_message_the_webhook_refused_is_sent_again_on_the_next_evaluation(settings, httpserver):
    settings.ALERT_EMAILS = []
    settings.ALERT_SLACK_WEBHOOK_URL = httpserver.url_for("/hooks/alerts")
    settings.ALERT_NO_WEBHOOK_MINUTES = 0
    heartbeat_record(name="worker")
    heartbeat_record(name="scheduler")
    httpserver.expect_oneshot_request("/hooks/alerts").respond_with_data("down", status=500)
    httpserver.expect_request("/hooks/alerts").respond_with_data("ok")
    SyncJobFactory(status=JobStatus.DEAD)
    alerts_evaluate()
    assert Incident.objects.get().notified_open is False
    alerts_evaluate()
    assert Incident.objects.get().notified_open is True
    assert len(httpserver.log) == 2
