"""Sending simulated jobs to the real tool once it has credentials.

While a system's tool has no credentials its jobs run in sandbox and succeed without reaching
it (``SyncJob.simulated``). A replay writes one new job through the outbox for each simulated
job that still matters, with its own idempotency key derived from the simulated job's, and
marks the simulated jobs settled: a second replay finds nothing left to send. It never touches
billing: the events, mirrors and customer states behind the simulated jobs stay as they are.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from audit.context import current_correlation_id
from audit.models import Source
from audit.services import audit_record
from sync.errors import SyncError
from sync.models import SyncJob
from sync.providers import SANDBOX, configured_provider, missing_credentials, provider_for
from sync.rules import SYNCED_SYSTEMS
from sync.services.outbox import _jobs_insert, fitted_key
# The retry's planning serves the replay as it is: same verdicts, same "a later job settles it".
from sync.services.retry import (
    ALREADY_DONE, CHUNK, WILL_DO, WOULD_CHANGE, PlanLine, _changes, _rule_version, _spread, _superseding,
    _with_customers, refreshed_payload,
)
from sync.services.rules import mapping_rules_current
from sync.services.sweeper import jobs_wake_on_time


@dataclass(frozen=True)
class Replay:
    tool: str  # the real tool's name, e.g. "HubSpot"
    total: int  # simulated jobs waiting (the plan may cover only the first of them)
    lines: list[PlanLine] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)  # the new jobs


def simulated_waiting(*, system: str, jobs: QuerySet | None = None) -> QuerySet[SyncJob]:
    """Simulated jobs of ``system`` not yet sent for real, oldest first."""
    qs = SyncJob.objects.all() if jobs is None else jobs
    return qs.filter(system=system, simulated=True, replayed_at__isnull=True).order_by("created_at", "pk")


def simulated_counts(*, jobs: QuerySet | None = None) -> dict[str, int]:
    """Per system, how many simulated jobs wait to be sent for real (from the partial index)."""
    qs = SyncJob.objects.all() if jobs is None else jobs
    rows = qs.filter(simulated=True, replayed_at__isnull=True).order_by().values("system").annotate(n=Count("id"))
    return {row["system"]: row["n"] for row in rows}


def replay_key(job: SyncJob) -> str:
    return fitted_key(f"replay:{job.idempotency_key}")


def real_tool(system: str):
    """The provider that would receive a replay of ``system``'s simulated jobs; SyncError while it is sandbox."""
    if system not in SYNCED_SYSTEMS:
        raise SyncError(f"{system!r} is not a system Switchboard syncs to.")
    provider = provider_for(system)
    if provider.NAME == SANDBOX:
        chosen = configured_provider(system)
        if chosen.NAME == SANDBOX:
            raise SyncError(f"{system} runs in sandbox by choice (SYNC_{system.upper()}_PROVIDER=sandbox): "
                            f"choose its tool and set its credentials first.")
        raise SyncError(f"{system} still runs in sandbox: {chosen.LABEL} needs "
                        f"{', '.join(missing_credentials(chosen))}. Set it and restart Switchboard first.")
    return provider


def _plan(jobs: list[SyncJob], tool: str, rules: dict) -> list[tuple[SyncJob, PlanLine, dict | None]]:
    newer = _superseding(jobs)  # a later success of the same kind (simulated or real) settles a job
    planned = []
    for job in jobs:
        if job.pk in newer:
            line, payload = PlanLine(job.pk, ALREADY_DONE, f"a later job (#{newer[job.pk]}) brings it up to date"), None
        else:
            payload = refreshed_payload(job, rules)
            changes = _changes(job, payload)
            line = (PlanLine(job.pk, WOULD_CHANGE, f"would send today's values to {tool}: {', '.join(changes)}")
                    if changes else PlanLine(job.pk, WILL_DO, f"will {job.action.replace('_', ' ')} in {tool}"))
        planned.append((job, line, payload))
    return planned


def jobs_replay_simulated(
    *, system: str, actor, source: str = Source.UI, dry_run: bool = False, limit: int | None = None
) -> Replay:
    """Plan (and unless ``dry_run``, send) every simulated job of ``system`` to its now real tool.

    State actions send the customer's values of today; a job a later one of the same kind
    brought up to date is settled without sending. The new jobs are spread at the tool's
    published rate. ``limit`` caps the plan of a dry run (a preview).
    """
    provider = real_tool(system)
    waiting = simulated_waiting(system=system)
    total = waiting.count()
    jobs = _with_customers(waiting[:limit] if dry_run and limit else waiting)
    rules = mapping_rules_current()
    planned = _plan(jobs, provider.LABEL, rules)
    lines = [line for _, line, _ in planned]
    if dry_run or not jobs:
        return Replay(provider.LABEL, total, lines)
    now = timezone.now()
    times = _spread([(job, payload) for job, _, payload in planned if payload is not None], now)
    sent: list[SyncJob] = []
    settled: list[int] = []
    with transaction.atomic():
        for start in range(0, len(planned), CHUNK):
            chunk = planned[start:start + CHUNK]
            mine = _lock_waiting(job.pk for job, _, _ in chunk)  # a replay running meanwhile took the rest
            new = [_replay_job(job, payload, times[job.pk], rules) for job, _, payload in chunk
                   if payload is not None and job.pk in mine]
            sent += _jobs_insert({job.idempotency_key: job for job in new})
            SyncJob.objects.filter(pk__in=mine).update(replayed_at=now)
            settled += sorted(mine)
        audit_record(
            action="sync.simulated_replay", source=source, actor=actor,
            summary=f"Sent {len(sent)} simulated {system} jobs to {provider.LABEL}",
            changes={"system": system, "tool": provider.NAME, "sent": [job.pk for job in sent],
                     "simulated": settled, "brought_up_to_date_by_later_jobs": len(settled) - len(sent)},
        )
        jobs_wake_on_time({job.pk: job.next_attempt_at for job in sent}, now=now)
    return Replay(provider.LABEL, total, lines, [job.pk for job in sent])


def _lock_waiting(ids: Iterable[int]) -> set[int]:
    return set(
        SyncJob.objects.select_for_update()
        .filter(pk__in=list(ids), simulated=True, replayed_at__isnull=True)
        .order_by("pk")  # locked in key order: two replays cannot deadlock
        .values_list("pk", flat=True)
    )


def _replay_job(job: SyncJob, payload: dict, at, rules: dict) -> SyncJob:
    return SyncJob(
        idempotency_key=replay_key(job), customer=job.customer, system=job.system, action=job.action,
        payload=payload, source_event_id=job.source_event_id, rule_version=_rule_version(job, rules),
        correlation_id=current_correlation_id(), replay_of=job, next_attempt_at=at,
    )
