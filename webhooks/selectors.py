"""Reads for the owner's endpoint screens."""

from django.db.models import Count, Prefetch, QuerySet

from sync.models import JobStatus, SyncAttempt, SyncJob
from webhooks.models import SYSTEM_PREFIX, Endpoint

DELIVERIES_SHOWN = 50


def endpoint_list() -> list[Endpoint]:
    """Every endpoint, each with its count of deliveries that gave up (dead)."""
    endpoints = list(Endpoint.objects.all())
    dead = dict(SyncJob.objects.dead().filter(system__startswith=SYSTEM_PREFIX).order_by()
                .values("system").annotate(n=Count("id")).values_list("system", "n"))
    for endpoint in endpoints:
        endpoint.dead_count = dead.get(endpoint.system, 0)
    return endpoints


def endpoint_deliveries(*, endpoint: Endpoint, status: str = "") -> QuerySet[SyncJob]:
    """The endpoint's latest deliveries, newest first, each with its attempts in order."""
    jobs = SyncJob.objects.filter(system=endpoint.system)
    if status:
        jobs = jobs.filter(status=status)
    attempts = SyncAttempt.objects.order_by("number")
    return (jobs.select_related("customer").prefetch_related(Prefetch("attempt_log", queryset=attempts))
            .order_by("-created_at", "-id")[:DELIVERIES_SHOWN])


RESENDABLE = (JobStatus.SUCCEEDED, JobStatus.DEAD, JobStatus.SET_ASIDE)
