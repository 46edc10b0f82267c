"""Running jobs in batches: gates (pause, breaker, rate) once per batch, one claim with a lease,
the adapter calls one after another (or in lanes, or through a batch endpoint); the tries are
recorded by ``sync.services.finish``.

Only the claim decides who runs a job: on PostgreSQL one UPDATE over the batch's due rows
taken with ``FOR UPDATE SKIP LOCKED``, elsewhere (SQLite, which runs writers one at a time)
the same conditional UPDATE inside a transaction. So any number of workers on any number of
machines (and a sweeper sending duplicate wake-ups) are safe. A batch of one is the old
one-job wake-up (``job_run``).
"""

import random
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import connection
from django.db.models import Case, F, Value, When
from django.utils import timezone

from core.logs import log_hash
from core.redact import redact
from sync import metrics
from sync.models import WAITING_JOB_STATUSES, JobStatus, ReasonCode, SyncAttempt, SyncJob
from sync.providers import Result, provider_for
from sync.providers.errors import ProviderError
from sync.providers.http import batch_answers, recording
from sync.ratelimit import holds_slot, rate_reserve
from sync.services.control import HELD, PROBE, Gate, breaker_record_failure, breaker_record_success, system_gate
from sync.services.columns import per_job
from sync.services.finish import Run, runs_finish
from sync.services.lanes import in_lanes
from sync.services.outbox import JOBS_PER_BATCH, wake_system, wake_taken
from sync.services.payload import job_payload, jobs_with_payload_facts
from sync.services.sweeper import jobs_wake_on_time

log = structlog.get_logger(__name__)

# A batch stops starting calls after this long (a slow tool): its other jobs are handed back at
# once, so the batch ends well inside the task's time limit and the lease.
BATCH_SECONDS = 15.0


def job_run(*, job_id: int, worker: str) -> str:
    """Execute job ``job_id`` if it is due; return what happened (``succeeded``, ``paused``, ...)."""
    return jobs_run(job_ids=[job_id], worker=worker).get(job_id, "not_due")


def jobs_run(*, job_ids: list[int], worker: str, system: str = "") -> dict[int, str]:
    """Execute those of ``job_ids`` that are due, as one batch per system; return each job's
    outcome (a duplicate or stale wake-up finds them ``not_due``).

    ``system``: the wake-up is that system's, and its batch is filled up to ``JOBS_PER_BATCH``
    with other jobs of the system that are due now (small wake-ups published while this one was
    queued were not sent: their jobs ride on it; larger ones still queued will find nothing to do):
    under a backlog each task runs a full batch, however few jobs each wake-up names. Any due job
    is fair game; the claim decides who runs it.
    """
    if system:
        wake_taken(system)  # before the read below: a small wake-up sent from now on is sent for real
    now = timezone.now()
    ids = list(dict.fromkeys(job_ids))[:JOBS_PER_BATCH]
    outcomes = {pk: "not_due" for pk in ids}
    systems: dict[str, list[SyncJob]] = defaultdict(list)
    due = [job for job in jobs_with_payload_facts().filter(pk__in=ids).order_by("pk")
           if job.status in WAITING_JOB_STATUSES and job.next_attempt_at <= now] if ids else []
    more = False
    if system and len(due) < JOBS_PER_BATCH:
        # No ORDER BY: the (status, next attempt) index hands over the first due rows it meets.
        room = JOBS_PER_BATCH - len(due)
        others = list(jobs_with_payload_facts().due(now).filter(system=system).exclude(pk__in=ids)
                      .order_by()[:room])
        more, due = len(others) == room, due + others
    for job in due:
        systems[job.system].append(job)
    for name, jobs in systems.items():
        # A batch filled to the brim leaves due jobs behind: once it is claimed, a next worker is woken.
        outcomes.update(_system_run(name, jobs, worker[:100], now, more=more and name == system))
    by_system = {job.pk: job.system for job in due}
    for (name, outcome), n in Counter((by_system.get(pk, ""), o) for pk, o in outcomes.items()).items():
        metrics.job_wakeups.labels(name, outcome).inc(n)
    return outcomes


def _system_run(system: str, jobs: list[SyncJob], worker: str, now: datetime,
                more: bool = False) -> dict[int, str]:
    gate = system_gate(system=system, now=now)
    if gate.paused:
        return {job.pk: "paused" for job in jobs}  # they stay pending; system_resume wakes them
    outcomes: dict[int, str] = {}
    if gate.breaker == PROBE:  # one job asks whether the system is back; the others wait with the rest
        jobs, waiting = jobs[:1], jobs[1:]
        until = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
        gate_for_rest = Gate(gate.paused, HELD, until, gate.failures)
        outcomes.update(_system_run_held(waiting, gate_for_rest, now))
    elif gate.breaker == HELD:
        return _system_run_held(jobs, gate, now)
    provider = provider_for(system)
    asking = [job for job in jobs if not holds_slot(job.rate_slot_at, provider, now)]
    waits = rate_reserve(provider=provider, actions=[job.action for job in asking])
    slots = {job.pk: now + timedelta(seconds=wait) for job, wait in zip(asking, waits) if wait > 0}
    if slots:  # the slots are these jobs' now: parked until then, woken once
        _postpone(slots, now, slot=True)
        outcomes.update({pk: "rate_limited" for pk in slots})
    ready = [job for job in jobs if job.pk not in slots]
    claimed = _claim(ready, worker, now)
    if more and claimed:
        wake_system(system)
    outcomes.update({job.pk: "claimed_elsewhere" for job in ready if job.pk not in claimed})
    outcomes.update(_execute_batch([job for job in ready if job.pk in claimed], provider, worker, gate=gate))
    return outcomes


def _execute(job: SyncJob, provider, worker: str, *, gate: Gate) -> str:
    """Run one claimed job: a batch of one."""
    return _execute_batch([job], provider, worker, gate=gate).get(job.pk, "not_due")


def _execute_batch(jobs: list[SyncJob], provider, worker: str, *, gate: Gate) -> dict[int, str]:
    """Run claimed jobs: the calls, then one transaction recording them, then the breaker."""
    with batch_answers():  # a request the batch's jobs repeat (an upsert) is sent once
        runs = _calls(jobs, provider, worker)
    outcomes = runs_finish(runs, provider, worker)
    if runs:
        _tell_breaker(runs[0].job.system, runs, gate)
    for run in runs:
        _observe(run, provider, outcomes[run.job.pk])
    return outcomes


def _system_run_held(jobs: list[SyncJob], gate: Gate, now: datetime) -> dict[int, str]:
    _postpone({job.pk: gate.until + timedelta(seconds=random.uniform(0, 5)) for job in jobs}, now)
    return {job.pk: "held" for job in jobs}


def _postpone(times: dict[int, datetime], now: datetime, *, slot: bool = False) -> None:
    """Wait without spending an attempt; wake again on time when the wait is short, else the
    sweeper wakes them on time. ``slot``: each time is the rate-limit slot the job reserved."""
    if not times:
        return
    at = per_job(times, "next_attempt_at")
    SyncJob.objects.due(now).filter(pk__in=list(times)).update(
        next_attempt_at=at, rate_slot_at=per_job(times, "rate_slot_at") if slot else None, updated_at=now,
        enqueued_at=None,
    )
    jobs_wake_on_time(times, now=now)


# PostgreSQL: rows another worker is claiming right now are skipped, not waited for. SQLite runs
# writers one at a time, so the plain conditional UPDATE is the same guarantee there.
_CLAIM_SQL = """
UPDATE {table} SET status = %s, attempts = attempts + 1, lease_owner = %s, lease_expires_at = %s,
       rate_slot_at = NULL, updated_at = %s
WHERE id IN ({due})
RETURNING id, attempts
"""
_DUE = "SELECT id FROM {table} WHERE id IN ({ids}) AND status IN (%s, %s) AND next_attempt_at <= %s"
_DUE_UNLOCKED = " ORDER BY id LIMIT {limit} FOR UPDATE SKIP LOCKED"


def _claim(jobs: list[SyncJob], worker: str, now: datetime) -> set[int]:
    """Take the due ones of ``jobs`` with a lease, in one statement; return the ids won. Each
    claimed job's ``attempts`` and lease are set to what the UPDATE wrote, not read again."""
    if not jobs:
        return set()
    ops, table = connection.ops, SyncJob._meta.db_table
    lease_until = now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)
    ids = [job.pk for job in jobs]
    due = _DUE.format(table=table, ids=", ".join(["%s"] * len(ids)))
    if connection.vendor == "postgresql":
        due += _DUE_UNLOCKED.format(limit=len(ids))
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL.format(table=table, due=due), [
            JobStatus.RUNNING.value, worker, ops.adapt_datetimefield_value(lease_until),
            ops.adapt_datetimefield_value(now), *ids, *[s.value for s in WAITING_JOB_STATUSES],
            ops.adapt_datetimefield_value(now),
        ])
        won = dict(cursor.fetchall())
    for job in jobs:
        if job.pk in won:
            job.status, job.attempts, job.lease_owner = JobStatus.RUNNING, won[job.pk], worker
    return set(won)


def _calls(jobs: list[SyncJob], provider, worker: str) -> list[Run]:
    """Call the tool for each job in turn; jobs in a row that the tool can take in one request (a
    batch endpoint) share one. A failure that concerns the whole system (down, slow, throttling,
    credentials refused) or the batch's time running out stops the batch: the jobs not tried are
    handed back without spending an attempt, not sent into the same wall."""
    runs: list[Run] = []
    clock = time.monotonic()
    payloads = {job.pk: job_payload(job) for job in jobs}  # after the claim: they carry this attempt's number
    if _in_lanes(jobs, provider):
        return _calls_in_lanes(jobs, payloads, provider, worker, clock)
    queue, alone = list(jobs), set()
    while queue:
        group = _sharing(queue, payloads, provider, alone)
        if len(group) > 1:
            done, again = _call_shared(group, payloads, provider)
            alone.update(job.pk for job in again)
            queue = again + queue[len(group):]
        else:
            done, queue = [_call(queue[0], provider, payloads[queue[0].pk])], queue[1:]
        runs += done
        error = next((run.error for run in done if _stops_batch(run.error)), None)
        if error is not None or time.monotonic() - clock > BATCH_SECONDS:
            _hand_back_stopped(queue, worker, error)
            break
    return runs


def _stops_batch(error: ProviderError | None) -> bool:
    return error is not None and (_system_wide(error) or error.reason_code == ReasonCode.RATE_LIMITED)


def _hand_back_stopped(jobs: list[SyncJob], worker: str, error: ProviderError | None) -> None:
    """The jobs a stopped batch did not try: after the tool's wait (and saying why) when the tool
    stopped it, at once when the batch's time ran out."""
    if error is None:
        _hand_back(jobs, worker, after=0.0)
        return
    why = "" if error.reason_code == ReasonCode.RATE_LIMITED else f"Not tried yet: {error.message}"
    _hand_back(jobs, worker, after=error.retry_after or 1.0, why=why)


def _in_lanes(jobs: list[SyncJob], provider) -> bool:
    """Whether the batch's calls may overlap: the tool says its calls are independent
    (``CONCURRENT_CALLS``) and has no batch endpoint, and there is more than one job."""
    return (getattr(provider, "CONCURRENT_CALLS", False) and getattr(provider, "batch_key", None) is None
            and settings.SYNC_CALLS_IN_FLIGHT > 1 and len(jobs) > 1)


def _calls_in_lanes(jobs: list[SyncJob], payloads: dict, provider, worker: str, clock: float) -> list[Run]:
    """Each customer's jobs one after another, in their order (jobs without a customer together);
    different customers' at the same time, at most ``SYNC_CALLS_IN_FLIGHT`` calls. A failure that
    stops a batch stops every lane before its next call, as the batch's time running out does; the
    jobs not tried are handed back."""
    runs, untried, stopped = in_lanes(
        jobs, owner=lambda job: job.customer_id, call=lambda job: _call(job, provider, payloads[job.pk]),
        stops=lambda run: _stops_batch(run.error), in_flight=settings.SYNC_CALLS_IN_FLIGHT,
        deadline=clock + BATCH_SECONDS)
    order = {job.pk: n for n, job in enumerate(jobs)}
    if untried:
        _hand_back_stopped(sorted(untried, key=lambda job: order[job.pk]), worker,
                           stopped.error if stopped else None)
    return sorted(runs, key=lambda run: order[run.job.pk])


def _sharing(queue: list[SyncJob], payloads: dict, provider, alone: set[int]) -> list[SyncJob]:
    """The jobs at the head of ``queue`` that can go in one request: in a row, each for another record."""
    batch_key = getattr(provider, "batch_key", None)
    group, keys = [], set()
    for job in queue if batch_key is not None else ():
        key = batch_key(payloads[job.pk])
        if job.pk in alone or not key or key in keys or len(group) >= provider.BATCH_LIMIT:
            break
        group.append(job)
        keys.add(key)
    return group or queue[:1]


def _call_shared(group: list[SyncJob], payloads: dict, provider) -> tuple[list[Run], list[SyncJob]]:
    """One request for ``group``. Returns the runs it settled and the jobs to send alone: those the
    answer does not show, or all of them when the request as a whole was refused (each one's own call
    says which was wrong). A failure of the whole system is the first job's try, as it would have been
    alone; the others are not tried."""
    started, clock = timezone.now(), time.monotonic()
    mine = [payloads[job.pk] for job in group]
    with recording() as trace:
        try:
            results, error = provider.perform_batch(mine), None
        except ProviderError as exc:
            results, error = [], exc
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not leave the jobs running
            log.exception("sync.adapter_crashed", job_id=group[0].pk, provider=provider.NAME)
            results = []
            error = ProviderError(f"{provider.NAME} adapter failed ({type(exc).__name__})", permanent=False)
    ms = int((time.monotonic() - clock) * 1000)
    if error is not None and not (_system_wide(error) or error.reason_code == ReasonCode.RATE_LIMITED):
        return [], group
    if error is not None:
        calls = _own_part(trace, provider, mine[0], len(group), keep=("response",))
        return [_run(group[0], provider, started, ms, calls, error=error)], group[1:]
    runs, again = [], []
    for job, payload, result in zip(group, mine, results, strict=True):
        if result is None:
            again.append(job)
        else:
            runs.append(_run(job, provider, started, ms, _own_part(trace, provider, payload, len(group)), result=result))
    return runs, again


def _own_part(trace: list, provider, payload, size: int, keep: tuple[str, ...] = ()) -> list[dict]:
    """A shared request as one job's try records it: its own input (not the others' records), and
    how many jobs went with it; the answer only where it is the request's (a failure), with ``keep``."""
    dropped = {"request", "response"} - set(keep)
    return [{**{k: v for k, v in call.items() if k not in dropped}, "shared_with": size - 1,
             "request": redact(provider.preview(payload).get("request"), cut=True)} for call in trace]


def _call(job: SyncJob, provider, payload) -> Run:
    started, clock = timezone.now(), time.monotonic()
    error: ProviderError | None = None
    result = Result()
    with recording() as trace:
        try:
            result = provider.perform(payload)
        except ProviderError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not leave the job running
            log.exception("sync.adapter_crashed", job_id=job.pk, provider=provider.NAME)
            error = ProviderError(f"{provider.NAME} adapter failed ({type(exc).__name__})", permanent=False)
    return _run(job, provider, started, int((time.monotonic() - clock) * 1000), trace, result=result, error=error)


def _run(job: SyncJob, provider, started, ms: int, trace: list, *, result: Result | None = None,
         error: ProviderError | None = None) -> Run:
    result = result or Result()
    attempt = SyncAttempt(
        job=job, number=job.attempts, started_at=started, duration_ms=ms,
        outcome="ok" if error is None else ("permanent" if error.permanent else "transient"),
        status_code=error.status_code if error else None,
        error_class=error.reason_code if error else "",
        message=(error.message if error else f"done by {provider.NAME}")[:500],
        request_summary={"provider": provider.NAME, "calls": [_request_part(c) for c in trace]},
        response_summary={"calls": [_response_part(c) for c in trace], "external_id": result.external_id},
    )
    return Run(job=job, attempt=attempt, result=result, error=error)


def _hand_back(jobs: list[SyncJob], worker: str, *, after: float, why: str = "") -> None:
    """Claimed jobs this batch will not try: waiting again, their attempt not spent, woken in
    ``after`` seconds (a tool's Retry-After is kept for them too). ``why``: the tool's failure that
    stopped the batch, kept as the job's last error so screens can say what it waits for."""
    if not jobs:
        return
    now = timezone.now()
    at = now + timedelta(seconds=after)
    SyncJob.objects.filter(pk__in=[job.pk for job in jobs], status=JobStatus.RUNNING, lease_owner=worker).update(
        status=Case(When(attempts=1, then=Value(JobStatus.PENDING)), default=Value(JobStatus.RETRYING)),
        attempts=F("attempts") - 1, next_attempt_at=at, lease_owner="", lease_expires_at=None,
        enqueued_at=None, updated_at=now, **({"last_error": why[:500]} if why else {}),
    )
    jobs_wake_on_time({job.pk: at for job in jobs}, now=now)


def _request_part(call: dict) -> dict:
    return {k: v for k, v in call.items() if k != "response"}


def _response_part(call: dict) -> dict:
    return {k: call[k] for k in ("status", "error", "ms", "response") if k in call}


def _system_wide(error: ProviderError) -> bool:
    """Outages and rejected credentials concern the whole system; a 429 or a bad record does not."""
    return (not error.permanent and error.reason_code != ReasonCode.RATE_LIMITED) or (
        error.reason_code == ReasonCode.AUTH_FAILED
    )


def _tell_breaker(system: str, runs: list[Run], gate: Gate) -> None:
    """What the batch's answers mean for the breaker, in the order they came (only its last try
    can have failed system-wide: that stops a batch)."""
    probe = gate.breaker == PROBE
    answered = [run for run in runs if run.error is None or not _system_wide(run.error)]
    failed = [run.error for run in runs if run.error is not None and _system_wide(run.error)]
    if answered and (gate.failures or probe):  # nothing to reset otherwise: spare the two writes
        if probe or any(run.error is None for run in answered):
            breaker_record_success(system=system)  # a probe that got any answer: the system is up
    if failed:
        breaker_record_failure(system=system, reason=failed[-1].reason_code, probe=probe and not answered,
                               now=timezone.now())


def _observe(run: Run, provider, outcome: str) -> None:
    job, error = run.job, run.error
    metrics.job_attempts.labels(job.system, run.attempt.outcome).inc()
    if outcome == "succeeded":
        metrics.job_latency_seconds.labels(job.system).observe((timezone.now() - job.created_at).total_seconds())
    log.info("sync.job_attempt", job_id=job.pk, system=job.system, action=job.action, provider=provider.NAME,
             outcome=outcome, reason=error.reason_code if error else "", attempt=job.attempts,
             customer=log_hash(job.customer.public_id) if job.customer_id else "")
