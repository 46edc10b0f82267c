"""The sweeper (run by beat): wakes due jobs and takes back jobs whose worker died."""

from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sync.models import JobStatus, SyncAttempt, SyncJob
from sync.rules import SYNCED_SYSTEMS
from sync.services.control import paused_systems
from sync.services.outbox import jobs_enqueue

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
    """Reclaim lease-expired jobs, then publish a wake-up for every due job without a recent one."""
    now = now or timezone.now()
    reclaimed = jobs_reclaim_expired(now=now)
    running = [s for s in SYNCED_SYSTEMS if s not in paused_systems()]
    stale = now - timedelta(seconds=settings.SYNC_REDELIVER_AFTER)
    due = (
        SyncJob.objects.due(now)
        .filter(system__in=running)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[: settings.SYNC_SWEEP_BATCH]
    )
    sent = jobs_enqueue(job_ids=list(due))
    if reclaimed or sent:
        log.info("sync.sweep", reclaimed=reclaimed, enqueued=sent)
    return {"reclaimed": reclaimed, "enqueued": sent}
