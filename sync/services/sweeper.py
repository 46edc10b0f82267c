"""The sweeper (run by beat): wakes due jobs and takes back jobs whose worker died; and waking
jobs on time, which a bulk retry uses too."""

import math
from collections import defaultdict
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sync.models import JobStatus, SyncAttempt, SyncJob, SystemState
from sync.services.control import paused_switches
from sync.services.outbox import jobs_enqueue, jobs_enqueue_on_commit

log = structlog.get_logger(__name__)


def jobs_reclaim_expired(*, now=None) -> int:
    """Running jobs whose lease ran out (the worker died): back to retrying, the lost try recorded."""
    now = now or timezone.now()
    reclaimed = 0
    for job in SyncJob.objects.lease_expired(now).only("pk", "attempts", "lease_owner")[: settings.SYNC_SWEEP_BATCH]:
        with transaction.atomic():
            took = SyncJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, lease_expires_at__lt=now).update(
                status=JobStatus.RETRYING, next_attempt_at=now, lease_owner="", lease_expires_at=None, enqueued_at=None,
                last_error="The worker stopped before finishing; trying again", updated_at=now,
            )
            if took:
                SyncAttempt.objects.create(
                    job_id=job.pk, number=job.attempts, started_at=now, outcome="lost",
                    message=f"Lease of {job.lease_owner or 'a worker'} expired before it reported back",
                )
                reclaimed += 1
    return reclaimed


def jobs_sweep(*, now=None) -> dict[str, int]:
    """Reclaim lease-expired jobs, then wake every job due before the next sweep that has no recent
    wake-up: the due ones at once, the others on time (with a countdown)."""
    now = now or timezone.now()
    reclaimed = jobs_reclaim_expired(now=now)
    # Every system not paused, the synced ones and those of a family (each outbound webhook endpoint).
    paused = paused_switches()
    stale = now - timedelta(seconds=settings.SYNC_REDELIVER_AFTER)
    horizon = now + timedelta(seconds=settings.SYNC_SWEEP_INTERVAL)
    due = (
        (SyncJob.objects.none() if SystemState.ALL in paused else SyncJob.objects.due(horizon))
        .exclude(system__in=paused)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[: settings.SYNC_SWEEP_BATCH]
    )
    sent = jobs_wake_on_time(dict(due), now=now, on_commit=False, fill=False)
    if reclaimed or sent:
        log.info("sync.sweep", reclaimed=reclaimed, enqueued=sent)
    return {"reclaimed": reclaimed, "enqueued": sent}


def wake_groups(times: dict[int, datetime], *, now: datetime) -> dict[float, list[int]]:
    """Jobs due within one sweep interval, grouped by countdown in seconds (rounded up to a tenth,
    so a job is never woken before it is due and jobs due together share one publish call).
    Later jobs are left to a later sweep: long countdowns do not belong on Redis."""
    groups: dict[float, list[int]] = defaultdict(list)
    for pk, at in times.items():
        delay = (at - now).total_seconds()
        if delay <= settings.SYNC_SWEEP_INTERVAL:
            groups[max(0.0, math.ceil(delay * 10) / 10)].append(pk)
    return dict(sorted(groups.items()))


def jobs_wake_on_time(times: dict[int, datetime], *, now: datetime, on_commit: bool = True, fill: bool = True) -> int:
    """Wake each job due within one sweep interval at its time; return how many jobs were woken
    (or, ``on_commit``, scheduled for after the surrounding transaction). ``fill``: as ``jobs_enqueue``'s."""
    sent = 0
    for delay, ids in wake_groups(times, now=now).items():
        if on_commit:
            jobs_enqueue_on_commit(job_ids=ids, countdown=delay or None, fill=fill)
            sent += len(ids)
        else:
            sent += jobs_enqueue(job_ids=ids, countdown=delay or None, fill=fill)
    return sent
