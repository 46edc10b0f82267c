"""/metrics read the way Prometheus reads it: parsed from a real scrape."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from billing.webhooks import REJECT_REASONS, SIGNATURE_REASONS
from sync.models import DriftKind, JobStatus, SyncJob, SystemState, ToolDrift
from tests import stripe_events as se
from tests.conftest import PASSWORD
from tests.factories import StripeEventFactory, SyncJobFactory
from tests.sync.helpers import make_job, run

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests-0123456789"
ROOT = Path(django_settings.BASE_DIR)


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def _scrape() -> dict[tuple, float]:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
        return {
            (sample.name, *sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.content.decode())
            for sample in family.samples
        }

    return _scrape


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, *sorted(labels.items())), 0.0)


def test_unfinished_and_dead_jobs_are_counted_by_system_and_status(scrape):
    SyncJobFactory.create_batch(2, status=JobStatus.DEAD)
    SyncJobFactory(status=JobStatus.PENDING, system="email")
    SyncJobFactory(status=JobStatus.SUCCEEDED, system="email")
    samples = scrape()
    assert value(samples, "switchboard_sync_jobs_dead", system="crm") == 2
    assert value(samples, "switchboard_sync_jobs_open", system="email", status="pending") == 1
    assert ("switchboard_sync_jobs_open", ("status", "retrying"), ("system", "support")) in samples  # 0, present


def test_the_oldest_due_job_reports_how_long_it_has_waited(scrape):
    SyncJobFactory(status=JobStatus.RETRYING, system="crm", next_attempt_at=timezone.now() - timedelta(minutes=11))
    SyncJobFactory(status=JobStatus.PENDING, system="crm", next_attempt_at=timezone.now() + timedelta(minutes=5))
    samples = scrape()
    assert value(samples, "switchboard_sync_oldest_due_job_age_seconds", system="crm") >= 11 * 60
    assert value(samples, "switchboard_sync_oldest_due_job_age_seconds", system="email") == 0


def test_each_answer_of_the_door_is_counted(client, scrape, settings, deliver):
    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    before = scrape()
    evt = se.event("customer.created", se.customer("cus_m1"))
    assert deliver(evt).status_code == 200
    assert deliver(evt).status_code == 200  # a duplicate
    assert se.post(client, se.event("customer.created", se.customer("cus_m2")), secret="whsec_x").status_code == 400
    after = scrape()

    def grew(**labels) -> float:
        name = "switchboard_webhook_requests_total"
        return value(after, name, **labels) - value(before, name, **labels)

    assert (grew(outcome="stored"), grew(outcome="duplicate"), grew(outcome="bad_signature")) == (1, 1, 1)
    for reason in REJECT_REASONS:  # every refusal has its series from the start
        assert ("switchboard_webhook_requests_total", ("outcome", reason)) in after
    assert set(SIGNATURE_REASONS) <= set(REJECT_REASONS)


def test_event_processing_is_observed_where_it_happens(scrape, settings, deliver):
    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    before = scrape()
    deliver(se.event("customer.created", se.customer("cus_m3")))  # the worker runs eagerly in tests
    after = scrape()
    assert value(after, "switchboard_events_processed_total", outcome="processed") - value(
        before, "switchboard_events_processed_total", outcome="processed") == 1
    assert value(after, "switchboard_event_processing_seconds_count") - value(
        before, "switchboard_event_processing_seconds_count") == 1
    assert value(after, "switchboard_event_delay_seconds_count") - value(
        before, "switchboard_event_delay_seconds_count") == 1


def test_job_attempts_and_written_to_confirmed_latency_are_observed(scrape):
    job = make_job("crm", "upsert_contact")  # no credentials: the sandbox tool confirms at once
    SyncJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=90))
    job.refresh_from_db()
    before = scrape()
    assert run(job) == "succeeded"
    after = scrape()
    attempts = ("switchboard_sync_job_attempts_total", ("outcome", "ok"), ("system", "crm"))
    assert after[attempts] - before.get(attempts, 0) == 1
    assert value(after, "switchboard_sync_job_latency_seconds_count", system="crm") - value(
        before, "switchboard_sync_job_latency_seconds_count", system="crm") == 1
    # written 90 s ago: counted in the 300 s bucket, not in the 60 s one
    for le, grown in (("60.0", 0), ("300.0", 1)):
        name = "switchboard_sync_job_latency_seconds_bucket"
        assert value(after, name, system="crm", le=le) - value(before, name, system="crm", le=le) == grown


def test_sign_ins_are_counted_by_result(client, owner, scrape):
    before = scrape()
    client.post("/accounts/login/", {"username": owner.email, "password": "wrong-password-1"})
    client.post("/accounts/login/", {"username": owner.email, "password": PASSWORD})
    after = scrape()
    for outcome in ("success", "failure"):
        name = "switchboard_signins_total"
        assert value(after, name, outcome=outcome) - value(before, name, outcome=outcome) == 1


def test_breakers_pauses_and_heartbeats_are_exported(scrape, heartbeats):
    SystemState.objects.create(system="crm", breaker_open_until=timezone.now() + timedelta(minutes=1),
                               consecutive_failures=5)
    SystemState.objects.create(system="email", paused=True)
    samples = scrape()
    assert value(samples, "switchboard_system_held", system="crm") == 1
    assert value(samples, "switchboard_system_held", system="email") == 0
    assert value(samples, "switchboard_system_consecutive_failures", system="crm") == 5
    assert value(samples, "switchboard_system_paused", system="email") == 1
    assert 0 <= value(samples, "switchboard_heartbeat_age_seconds", process="worker") < 60


def test_the_newest_delivery_and_waiting_events_are_exported(scrape):
    newest = StripeEventFactory(status="processed")
    StripeEventFactory.create_batch(2, status="received")
    samples = scrape()
    assert value(samples, "switchboard_stripe_last_event_received_timestamp_seconds") == pytest.approx(
        newest.received_at.timestamp(), abs=60)
    assert value(samples, "switchboard_stripe_events_waiting", status="received") == 2
    assert value(samples, "switchboard_stripe_oldest_received_event_age_seconds") >= 0


def tool_drift(**fields) -> ToolDrift:
    return ToolDrift.objects.create(**{"field": "tag:customer", "expected": "absent", "actual": "present", **fields})


def test_open_differences_with_the_tools_are_counted_by_system_and_kind(scrape):
    for _ in range(2):
        tool_drift(system="email", kind=DriftKind.WRONG_VALUE)
    tool_drift(system="community", kind=DriftKind.ACCESS_EXTRA, resolved_at=timezone.now(), resolution="gone")
    samples = scrape()
    assert value(samples, "switchboard_tool_drift_open", system="email", kind="wrong_value") == 2
    assert ("switchboard_tool_drift_open", ("kind", "access_extra"), ("system", "community")) in samples
    assert value(samples, "switchboard_tool_drift_open", system="community", kind="access_extra") == 0


def test_a_scrape_costs_the_same_queries_however_many_rows(scrape):
    def fill(n: int) -> None:
        for status in JobStatus.values:
            for system in ("crm", "support", "community", "email"):
                SyncJobFactory.create_batch(n, status=status, system=system)
        for status in ("received", "processed", "failed", "ignored"):
            StripeEventFactory.create_batch(n, status=status)

    fill(1)
    with CaptureQueriesContext(connection) as few:
        scrape()
    fill(15)
    with CaptureQueriesContext(connection) as many:
        scrape()
    assert len(many) == len(few)
    # No GROUP BY over a whole table: each reads unfinished (or dead) rows through a status index.
    for query in many.captured_queries:
        if "GROUP BY" in query["sql"]:
            assert ('"status" IN' in query["sql"] or '"status" =' in query["sql"]
                    or '"resolved_at" IS NULL' in query["sql"]), query["sql"]


def test_samples_from_every_process_are_added_up(scrape):
    """Multiprocess mode: a gunicorn worker or a Celery process writes its own file; a scrape adds them."""
    before = value(scrape(), "switchboard_webhook_requests_total", outcome="stored")
    code = "from billing.metrics import webhook_requests\nfor _ in range(3): webhook_requests.labels('stored').inc()"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60,
                   env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": os.environ["PROMETHEUS_MULTIPROC_DIR"]})
    assert value(scrape(), "switchboard_webhook_requests_total", outcome="stored") - before == 3
