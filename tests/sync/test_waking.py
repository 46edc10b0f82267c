"""Waking jobs on time: a bulk retry and the sweeper publish every job due within one sweep
interval (with a countdown), so a large retry drains at the providers' pace, not the sweeper's."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from sync.models import JobStatus, SyncJob
from sync.services import jobs_retry_bulk, jobs_sweep
from sync.services.sweeper import wake_groups
from tests.sync.helpers import customer_with_stripe, make_job

pytestmark = pytest.mark.django_db


def test_wake_groups_round_up_share_a_countdown_and_leave_later_jobs_to_a_sweep(settings):
    settings.SYNC_SWEEP_INTERVAL = 20
    now = timezone.now()
    times = {1: now - timedelta(seconds=5), 2: now, 3: now + timedelta(seconds=0.01),
             4: now + timedelta(seconds=0.04), 5: now + timedelta(seconds=12.31), 6: now + timedelta(seconds=20),
             7: now + timedelta(seconds=20.5)}
    groups = wake_groups(times, now=now)
    assert groups == {0.0: [1, 2], 0.1: [3, 4], 12.4: [5], 20.0: [6]}
    # Never before its time: each countdown is at least the job's own delay.
    for delay, ids in groups.items():
        assert all(delay >= (times[pk] - now).total_seconds() for pk in ids)


def test_a_bulk_retry_wakes_every_job_due_before_the_next_sweep(owner, settings, django_capture_on_commit_callbacks):
    settings.SYNC_SWEEP_INTERVAL = 20
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "sandbox": (1, 10)}  # one call per 10 s
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(5)]
    SyncJob.objects.update(status=JobStatus.DEAD)
    with time_machine.travel(timezone.now(), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            jobs_retry_bulk(jobs=SyncJob.objects.order_by("pk"), actor=owner, source="ui")
    rows = {job.pk: SyncJob.objects.get(pk=job.pk) for job in jobs}
    first, *rest = [rows[job.pk] for job in jobs]
    # Due now: run at once (eager worker in tests). Due at +10 s and +20 s: woken with a countdown.
    # Due at +30 s and +40 s: left for a sweep.
    assert first.status == JobStatus.SUCCEEDED
    assert [r.enqueued_at is not None for r in rest] == [True, True, False, False]
    assert all(r.status == JobStatus.PENDING for r in rest)


def test_the_sweeper_wakes_jobs_due_before_its_next_run_and_not_later_ones(settings):
    settings.SYNC_SWEEP_INTERVAL = 20
    soon, later = make_job("email", "add_tag", tag="a"), make_job("email", "add_tag", tag="b")
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        SyncJob.objects.filter(pk=soon.pk).update(status=JobStatus.RETRYING, next_attempt_at=now + timedelta(seconds=5),
                                                  enqueued_at=None)
        SyncJob.objects.filter(pk=later.pk).update(status=JobStatus.RETRYING,
                                                   next_attempt_at=now + timedelta(seconds=60), enqueued_at=None)
        result = jobs_sweep()
    assert result["enqueued"] == 1
    soon.refresh_from_db()
    later.refresh_from_db()
    assert soon.enqueued_at is not None and soon.status == JobStatus.RETRYING  # not due yet: untouched by the worker
    assert later.enqueued_at is None


def _retry_queries(owner, count: int, as_list: bool) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    SyncJob.objects.all().delete()
    for n in range(count):  # many customers in few states, as in life
        customer = customer_with_stripe(status="active", plan="Pro", mrr=4900, currency="usd")
        make_job("crm", "upsert_contact", customer)
        make_job("email", "add_tag", customer, tag=("customer", "trial")[n % 2])
    SyncJob.objects.update(status=JobStatus.DEAD)
    jobs = SyncJob.objects.order_by("pk")
    with CaptureQueriesContext(connection) as queries:
        lines = jobs_retry_bulk(jobs=list(jobs) if as_list else jobs, actor=owner, source="ui")
    assert len(lines) == 2 * count and SyncJob.objects.filter(status=JobStatus.PENDING).count() == 2 * count
    return len(queries)


@pytest.mark.parametrize("as_list", [False, True], ids=["queryset", "list"])
def test_a_bulk_retry_costs_the_same_queries_for_ten_jobs_or_eighty(owner, settings, as_list):
    """"Retry all" of thousands of dead jobs plans and writes them in chunks, not row by row
    (jobs are written per second of the providers' pace: here every job fits the first second)."""
    settings.SYNC_RATE_LIMITS = {name: (100_000, 1) for name in settings.SYNC_RATE_LIMITS}
    small = _retry_queries(owner, 5, as_list)
    large = _retry_queries(owner, 40, as_list)
    assert large == small


def test_the_audit_of_a_bulk_retry_names_only_the_jobs_really_put_back(owner):
    from audit.models import AuditEvent

    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(3)]
    SyncJob.objects.update(status=JobStatus.DEAD)
    planned = list(SyncJob.objects.order_by("pk"))
    # Between the plan and the write, another person's retry already took the second job.
    SyncJob.objects.filter(pk=jobs[1].pk).update(status=JobStatus.PENDING)
    jobs_retry_bulk(jobs=planned, actor=owner, source="ui")
    audit = AuditEvent.objects.get(action="sync.jobs_retry_bulk")
    assert audit.changes["jobs"] == [jobs[0].pk, jobs[2].pk]
    assert audit.changes["changed_meanwhile"] == 1 and audit.summary.startswith("Retried 2 of 3")
