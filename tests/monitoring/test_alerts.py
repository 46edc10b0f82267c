"""Incidents per fact: each opens with one message, says each new fact once, resolves with one more,
and stays quiet while flapping (time moved, never slept)."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from monitoring.alerts import CLAIM_SECONDS, alerts_evaluate, incidents_notify
from monitoring import heartbeats
from monitoring.heartbeats import heartbeat_record
from monitoring.models import Heartbeat, Incident
from sync.models import JobStatus, ReasonCode, SyncJob
from sync.services import job_set_aside
from tests.factories import SyncJobFactory
from tests.monitoring.conftest import beat, slack_texts

pytestmark = pytest.mark.django_db


def dead_job(**kwargs) -> SyncJob:
    return SyncJobFactory(status=JobStatus.DEAD, reason_code=kwargs.pop("reason_code", ReasonCode.AUTH_FAILED),
                          last_error="401 Unauthorized", finished_at=timezone.now(), **kwargs)


def test_a_dead_job_opens_one_incident_with_one_message_and_resolves_with_one_more(channels):
    job = dead_job()
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


def test_the_same_dead_job_flapping_within_the_quiet_period_sends_nothing_more(channels, settings):
    settings.ALERT_QUIET_MINUTES = 30
    job = dead_job()
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
    assert Incident.objects.get().reopened == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=90)):
        beat()
        SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.DEAD)
        alerts_evaluate()
    assert len(mail.outbox) == 3 and Incident.objects.count() == 2


def test_a_new_dead_job_within_the_quiet_period_is_never_swallowed(channels, settings):
    settings.ALERT_QUIET_MINUTES = 30
    first = dead_job()
    alerts_evaluate()
    SyncJob.objects.filter(pk=first.pk).update(status=JobStatus.SUCCEEDED)
    alerts_evaluate()
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        beat()
        second = dead_job()
        alerts_evaluate()
    texts = slack_texts(channels)
    assert len(texts) == 3 and texts[2].startswith("[Switchboard] Incident opened")
    assert f"#{second.pk}" in texts[2]


def test_a_job_dying_while_others_are_reported_sends_one_update_naming_it(channels):
    first = dead_job()
    alerts_evaluate()
    second = dead_job(system="email", action="add_tag")
    alerts_evaluate()
    alerts_evaluate()
    texts = slack_texts(channels)
    assert len(texts) == 2
    assert texts[1].startswith(f"[Switchboard] Incident update: 1 new dead job: #{second.pk}.")
    incident = Incident.objects.get(rule="dead_jobs", resolved_at__isnull=True)
    assert set(incident.told) == {str(first.pk), str(second.pk)} and incident.news is False


def test_a_job_retried_and_dead_again_in_an_open_incident_is_not_news(channels):
    first, second = dead_job(), dead_job()
    alerts_evaluate()
    SyncJob.objects.filter(pk=first.pk).update(status=JobStatus.PENDING)
    alerts_evaluate()
    SyncJob.objects.filter(pk=first.pk).update(status=JobStatus.DEAD)
    alerts_evaluate()
    assert len(slack_texts(channels)) == 1
    assert set(Incident.objects.get(resolved_at__isnull=True).facts) == {str(first.pk), str(second.pk)}


@pytest.mark.parametrize("set_aside", [True, False], ids=["first set aside", "first left dead"])
def test_a_new_auth_failed_dead_job_three_days_later_reaches_a_person(channels, owner, set_aside):
    stuck = dead_job(reason_code=ReasonCode.VALIDATION)
    alerts_evaluate()
    if set_aside:
        job_set_aside(job=stuck, actor=owner, note="The CRM refuses this address; nothing to fix on our side")
        alerts_evaluate()
    before = len(slack_texts(channels))
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        beat()
        alerts_evaluate()
        assert len(slack_texts(channels)) == before  # nothing new yet: nothing said
        fresh = dead_job(reason_code=ReasonCode.AUTH_FAILED)
        alerts_evaluate()
        alerts_evaluate()
    texts = slack_texts(channels)
    assert len(texts) == before + 1
    assert f"#{fresh.pk}" in texts[-1] and "Credentials rejected" in texts[-1]
    assert texts[-1].startswith("[Switchboard] Incident opened" if set_aside else "[Switchboard] Incident update")


def test_a_set_aside_dead_job_resolves_its_incident(channels, owner):
    job = dead_job()
    alerts_evaluate()
    job_set_aside(job=job, actor=owner, note="customer deleted in the CRM on purpose")
    alerts_evaluate()
    assert Incident.objects.get(rule="dead_jobs").resolved_at is not None
    assert slack_texts(channels)[-1].startswith("[Switchboard] Resolved: 1 outbound job dead")


def test_an_alert_goes_out_even_when_every_outbound_system_is_paused(channels, owner):
    from sync.services import system_pause

    system_pause(system="all", actor=owner, reason="maintenance")
    dead_job()
    alerts_evaluate()
    assert len(slack_texts(channels)) == 1 and len(mail.outbox) == 1


def test_a_message_the_webhook_refused_is_sent_again_on_the_next_evaluation(settings, httpserver):
    settings.ALERT_EMAILS = []
    settings.ALERT_SLACK_WEBHOOK_URL = httpserver.url_for("/hooks/alerts")
    settings.ALERT_NO_WEBHOOK_MINUTES = 0
    beat()
    httpserver.expect_oneshot_request("/hooks/alerts").respond_with_data("down", status=500)
    httpserver.expect_request("/hooks/alerts").respond_with_data("ok")
    dead_job()
    alerts_evaluate()
    incident = Incident.objects.get()
    assert incident.notified_open is False and incident.claimed_until is None  # the claim is let go
    alerts_evaluate()
    assert Incident.objects.get().notified_open is True
    assert len(httpserver.log) == 2


def test_a_channel_that_took_the_message_does_not_get_it_again_when_another_refused(settings, httpserver):
    settings.ALERT_EMAILS = ["founder@example.com"]
    settings.ALERT_SLACK_WEBHOOK_URL = httpserver.url_for("/hooks/alerts")
    settings.ALERT_NO_WEBHOOK_MINUTES = 0
    beat()
    httpserver.expect_oneshot_request("/hooks/alerts").respond_with_data("down", status=500)
    httpserver.expect_request("/hooks/alerts").respond_with_data("ok")
    job = dead_job()
    alerts_evaluate()  # email takes it, the webhook refuses
    assert len(mail.outbox) == 1 and Incident.objects.get().notified_open is False
    alerts_evaluate()  # the webhook only
    assert len(mail.outbox) == 1 and len(httpserver.log) == 2
    assert Incident.objects.get().notified_open is True
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    alerts_evaluate()  # the next message goes to both again
    assert len(mail.outbox) == 2 and len(httpserver.log) == 3
    assert "Resolved" in mail.outbox[1].subject


def test_a_message_another_evaluator_is_sending_is_not_sent_twice(channels):
    dead_job()
    alerts_evaluate()
    incident = Incident.objects.get()
    dead_job()
    # Another process found the news and is sending it now (its claim is fresh).
    Incident.objects.filter(pk=incident.pk).update(news=True, claimed_until=timezone.now() + timedelta(seconds=60))
    alerts_evaluate()
    assert len(slack_texts(channels)) == 1
    # That process died mid-send: once its claim lapses, someone else sends the news, once.
    with time_machine.travel(timezone.now() + timedelta(seconds=CLAIM_SECONDS + 1)):
        beat()
        assert incidents_notify() == 1
        assert incidents_notify() == 0
    assert len(slack_texts(channels)) == 2


def test_an_incident_of_a_retired_rule_resolves(channels):
    Incident.objects.create(rule="sync_lag", summary="Sync lag p95 is 400 s", opened_at=timezone.now(),
                            notified_open=True, told=["on"], facts=["on"])
    alerts_evaluate()
    assert Incident.objects.get(rule="sync_lag").resolved_at is not None
    assert slack_texts(channels) == [
        "[Switchboard] Resolved: Sync lag p95 is 400 s (lasted 0 min)\nhttp://127.0.0.1:8000"
    ]


def test_a_missing_scheduler_and_a_missing_worker_are_two_incidents(channels, settings):
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 1)):
        alerts_evaluate()
        heartbeat_record(name="worker")
        alerts_evaluate()
    incidents = {i.key: i for i in Incident.objects.filter(rule="heartbeat")}
    assert incidents["scheduler"].resolved_at is None and incidents["worker"].resolved_at is not None
    assert incidents["scheduler"].summary.startswith("The scheduler (celery beat) has shown no life since")
    assert incidents["worker"].summary.startswith("No worker has shown life since")
    assert len(slack_texts(channels)) == 3  # two opened, the worker's resolved


# --- where a person sees them ---------------------------------------------------------------


def test_the_health_screen_names_each_open_incident_and_whether_anyone_was_told(client, owner, settings):
    settings.ALERT_EMAILS, settings.ALERT_SLACK_WEBHOOK_URL, settings.ALERT_NO_WEBHOOK_MINUTES = [], "", 0
    beat()
    from sync.services.control import breaker_record_failure

    breaker_record_failure(system="crm", reason="unavailable", probe=False, now=timezone.now() - timedelta(minutes=6))
    job = dead_job()
    alerts_evaluate()
    job_set_aside(job=job, actor=owner, note="contact deleted on purpose")
    alerts_evaluate()
    Incident.objects.filter(rule="system_down").update(notified_open=False)  # as if the channel had refused it
    client.force_login(owner)
    page = client.get("/system/health/").content.decode()
    open_part = page[page.index('id="open-incidents"'):page.index("Recently resolved")]
    assert "<strong>Outside system down</strong> · CRM (sandbox) is down" in open_part
    assert "no message has gone out yet" in open_part
    resolved_part = page[page.index('id="resolved-incidents"'):]
    assert "<strong>Outbound jobs dead</strong> · 1 outbound job dead" in resolved_part
    assert "1 set aside</a>" in page


def test_the_queue_shows_an_open_incident_with_its_rule_and_message_state(client, owner, settings):
    settings.ALERT_EMAILS, settings.ALERT_SLACK_WEBHOOK_URL, settings.ALERT_NO_WEBHOOK_MINUTES = [], "", 0
    Incident.objects.create(rule="backlog", summary="Outbound work is not draining: 3 jobs due", link="/sync/jobs/",
                            opened_at=timezone.now(), facts=["on"])
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert "Outbound work is not draining: 3 jobs due" in page
    assert "Work not draining · no message has gone out yet: check the alert channel" in page


def test_a_fresh_start_is_not_a_missing_process_until_the_stale_limit_has_passed(channels, settings):
    Heartbeat.objects.all().delete()  # nothing has beaten yet
    with time_machine.travel(heartbeats.WATCHING_SINCE + timedelta(seconds=5), tick=False):
        alerts_evaluate()  # the scheduler's first evaluation, before the worker's first beat
    assert not Incident.objects.filter(rule="heartbeat").exists()
    assert slack_texts(channels) == []
    with time_machine.travel(heartbeats.WATCHING_SINCE + timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 1)):
        alerts_evaluate()
    assert set(Incident.objects.filter(rule="heartbeat").values_list("key", flat=True)) == {"worker", "scheduler"}
    assert Incident.objects.get(key="worker").summary.startswith("No worker has shown life yet")


def test_an_evaluator_that_cannot_judge_yet_keeps_the_incident_a_longer_watcher_opened(channels, settings):
    # Two workers stand in for the scheduler: the one started first has watched the stale limit and
    # opened "never seen"; the one started later cannot judge yet and must not resolve it, or its
    # next look would open a second incident and send a second message.
    Heartbeat.objects.all().delete()
    with time_machine.travel(heartbeats.WATCHING_SINCE + timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 1)):
        alerts_evaluate()
    opened = Incident.objects.get(rule="heartbeat", key="scheduler")
    with time_machine.travel(heartbeats.WATCHING_SINCE + timedelta(seconds=1), tick=False):
        alerts_evaluate()  # as the later worker sees it
    opened.refresh_from_db()
    assert opened.resolved_at is None
    assert Incident.objects.filter(rule="heartbeat", key="scheduler").count() == 1
    assert len([t for t in slack_texts(channels) if "scheduler" in t]) == 1
