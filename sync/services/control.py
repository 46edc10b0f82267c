"""Pause switches and the per-system circuit breaker. Both make jobs wait without spending attempts."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.models import Source
from audit.services import audit_record
from sync.errors import SyncError
from sync.models import OPEN_JOB_STATUSES, JobStatus, SyncJob, SystemState
from sync.providers import SANDBOX, configured_provider, missing_credentials, provider_for
from sync.rules import SYNCED_SYSTEMS
from sync.services.outbox import jobs_enqueue_on_commit

log = structlog.get_logger(__name__)
ALL = SystemState.ALL


@dataclass(frozen=True)
class SystemView:
    """What the screens need to know about one system."""

    system: str
    provider: str  # the provider that serves it now
    sandbox: bool  # served by sandbox: its jobs are simulated
    tool: str  # the provider the settings choose (sandbox only when chosen explicitly)
    tool_label: str
    missing: tuple[str, ...]  # the chosen tool's credentials that are not set
    paused: bool  # by its own switch or by "all"
    paused_here: bool  # by its own switch
    paused_reason: str
    paused_by: str
    paused_at: datetime | None
    held: bool  # the circuit breaker is open
    held_until: datetime | None
    consecutive_failures: int
    last_failure_reason: str
    open_jobs: int
    dead_jobs: int
    simulated_jobs: int = 0  # not yet sent for real; counted by the systems page only


def _label(system: str) -> str:
    return "all automation" if system == ALL else system


def _check_system(system: str) -> None:
    if system != ALL and system not in SYNCED_SYSTEMS:
        raise SyncError(f"{system!r} is not a system Switchboard syncs to.")


def system_pause(*, system: str, actor, reason: str, source: str = Source.UI) -> SystemState:
    """Stop starting new work for ``system`` (or ``all``); its jobs wait as pending."""
    _check_system(system)
    reason = (reason or "").strip()
    if not reason:
        raise SyncError("Say why you are pausing, so the team knows when it is safe to resume.")
    with transaction.atomic():
        state, _ = SystemState.objects.select_for_update().get_or_create(system=system)
        if state.paused:
            raise SyncError(f"{_label(system).capitalize()} is already paused.")
        state.paused, state.paused_reason, state.paused_at = True, reason[:300], timezone.now()
        state.paused_by = actor if getattr(actor, "is_authenticated", False) else None
        state.save()
        audit_record(action="sync.system_pause", source=source, actor=actor, target=state,
                     summary=f"Paused {_label(system)}: {reason}"[:300],
                     changes={"system": system, "paused": [False, True], "reason": reason[:300]})
    return state


def system_resume(*, system: str, actor, source: str = Source.UI) -> SystemState:
    """Start the system again; what waited while paused is woken after commit."""
    _check_system(system)
    with transaction.atomic():
        state, _ = SystemState.objects.select_for_update().get_or_create(system=system)
        if not state.paused:
            raise SyncError(f"{_label(system).capitalize()} is not paused.")
        paused_reason = state.paused_reason
        state.paused, state.paused_reason, state.paused_at, state.paused_by = False, "", None, None
        state.save()
        audit_record(action="sync.system_resume", source=source, actor=actor, target=state,
                     summary=f"Resumed {_label(system)}",
                     changes={"system": system, "paused": [True, False], "paused_reason": paused_reason})
        running = [s for s in SYNCED_SYSTEMS if s not in paused_systems()]
        due = SyncJob.objects.due().filter(system__in=running).order_by("next_attempt_at")
        jobs_enqueue_on_commit(job_ids=list(due.values_list("pk", flat=True)[: settings.SYNC_SWEEP_BATCH]))
    return state


def paused_systems() -> set[str]:
    """Systems whose work must wait: paused by their own switch or by ``all``."""
    paused = set(SystemState.objects.filter(paused=True).values_list("system", flat=True))
    return set(SYNCED_SYSTEMS) if ALL in paused else paused & set(SYNCED_SYSTEMS)


def paused_switches() -> set[str]:
    """Every pause switch that is on, ``all`` included, for any system (a family's too)."""
    return set(SystemState.objects.filter(paused=True).values_list("system", flat=True))


def system_states(*, jobs=None) -> dict[str, SystemView]:
    """Every synced system (and ``all``) with its switch, breaker, provider and job counts.

    ``jobs`` is what the counts read (a screen passes the jobs its viewer may see); all by default.
    """
    from django.db.models import Count, Q

    rows = {s.system: s for s in SystemState.objects.select_related("paused_by")}
    # Only unfinished jobs are read, through the status index: the succeeded ones (nearly every
    # row) never are. Counting per system over the whole table took 0.1-0.3 s at 300,000 jobs.
    counts = {
        r["system"]: r
        for r in (SyncJob.objects.all() if jobs is None else jobs).open_or_dead()
        .order_by()
        .values("system").annotate(
            open=Count("id", filter=Q(status__in=OPEN_JOB_STATUSES)),
            dead=Count("id", filter=Q(status=JobStatus.DEAD)),
        )
    }
    everything = rows.get(ALL)
    now = timezone.now()
    views = {}
    for system in (*SYNCED_SYSTEMS, ALL):
        row = rows.get(system) or SystemState(system=system)
        provider = provider_for(system) if system != ALL else None
        chosen = configured_provider(system) if system != ALL else None
        views[system] = SystemView(
            system=system,
            provider=provider.NAME if provider else "",
            sandbox=bool(provider and provider.NAME == SANDBOX),
            tool=chosen.NAME if chosen else "",
            tool_label=chosen.LABEL if chosen else "",
            missing=tuple(missing_credentials(chosen)) if chosen else (),
            paused=row.paused or bool(everything and everything.paused),
            paused_here=row.paused,
            paused_reason=row.paused_reason or (everything.paused_reason if everything and everything.paused else ""),
            paused_by=row.paused_by.email if row.paused_by else "",
            paused_at=row.paused_at,
            held=row.breaker_open_until is not None,
            held_until=row.breaker_open_until if row.breaker_open_until and row.breaker_open_until > now else None,
            consecutive_failures=row.consecutive_failures,
            last_failure_reason=row.last_failure_reason,
            open_jobs=counts.get(system, {}).get("open", 0) if system != ALL else sum(c["open"] for c in counts.values()),
            dead_jobs=counts.get(system, {}).get("dead", 0) if system != ALL else sum(c["dead"] for c in counts.values()),
        )
    return views


# --- circuit breaker -------------------------------------------------------------

CLOSED, HELD, PROBE = "closed", "held", "probe"


@dataclass(frozen=True)
class Gate:
    paused: bool
    breaker: str  # CLOSED, HELD or PROBE
    until: datetime | None  # when a HELD job should look again
    failures: int


def system_gate(*, system: str, now: datetime) -> Gate:
    """May a job of ``system`` run now? One query for the pause switches and the breaker."""
    rows = {
        r["system"]: r
        for r in SystemState.objects.filter(system__in=[system, ALL]).values(
            "system", "paused", "breaker_open_until", "consecutive_failures"
        )
    }
    own = rows.get(system, {})
    paused = any(r["paused"] for r in rows.values())
    failures = own.get("consecutive_failures", 0)
    open_until = own.get("breaker_open_until")
    if open_until is None:
        return Gate(paused, CLOSED, None, failures)
    if open_until > now:
        return Gate(paused, HELD, open_until, failures)
    # Half-open: exactly one worker wins the probe; the others keep waiting.
    probe_until = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
    won = not paused and SystemState.objects.filter(system=system, breaker_open_until=open_until).update(
        breaker_open_until=probe_until
    )
    return Gate(paused, PROBE if won else HELD, None if won else probe_until, failures)


def breaker_record_success(*, system: str) -> None:
    reopened = SystemState.objects.filter(system=system, breaker_open_until__isnull=False).update(
        breaker_open_until=None, consecutive_failures=0, failing_since=None
    )
    SystemState.objects.filter(system=system, consecutive_failures__gt=0).update(
        consecutive_failures=0, failing_since=None
    )
    if reopened:
        log.info("sync.breaker_closed", system=system)
        audit_record(action="sync.breaker_closed", source=Source.WORKER,
                     summary=f"{system} answers again; its queued jobs run now", changes={"system": system})


def breaker_record_failure(*, system: str, reason: str, probe: bool, now: datetime) -> bool:
    """Count one transient failure; open (or re-open) the breaker when the run is long enough."""
    SystemState.objects.get_or_create(system=system)
    SystemState.objects.filter(system=system).update(
        consecutive_failures=F("consecutive_failures") + 1, last_failure_reason=reason[:30],
        failing_since=Coalesce("failing_since", Value(now)),  # the first failure of this run
    )
    failures = SystemState.objects.filter(system=system).values_list("consecutive_failures", flat=True).first()
    until = now + timedelta(seconds=settings.SYNC_BREAKER_COOLDOWN)
    if probe:
        SystemState.objects.filter(system=system).update(breaker_open_until=until)
        return True
    if failures < settings.SYNC_BREAKER_THRESHOLD:
        return False
    tripped = SystemState.objects.filter(system=system, breaker_open_until__isnull=True).update(
        breaker_open_until=until
    )
    if tripped:
        log.warning("sync.breaker_open", system=system, failures=failures)
        audit_record(action="sync.breaker_open", source=Source.WORKER,
                     summary=f"{system} failed {failures} times in a row; its jobs wait until it answers",
                     changes={"system": system, "reason": reason})
    return bool(tripped)
