"""Running one job: gates (pause, breaker, rate), claim with a lease, call the adapter, record.

Only the conditional UPDATE in ``_claim`` decides who runs a job, so any
number of workers (and a sweeper sending duplicate wake-ups) are safe on
SQLite and PostgreSQL alike.
"""

import random
import time
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.backoff import backoff_seconds
from core.logs import log_hash
from customers.services import CustomerError, customer_link
from sync import metrics
from sync.hooks import success_hooks_run
from sync.models import WAITING_JOB_STATUSES, JobStatus, ReasonCode, SyncAttempt, SyncJob
from sync.providers import SANDBOX, Result, provider_for
from sync.providers.errors import ProviderError
from sync.providers.http import recording
from sync.ratelimit import holds_slot, rate_take
from sync.services.control import HELD, PROBE, Gate, breaker_record_failure, breaker_record_success, system_gate
from sync.services.outbox import jobs_enqueue_on_commit
from sync.services.payload import job_payload, jobs_with_payload_facts

log = structlog.get_logger(__name__)


def job_run(*, job_id: int, worker: str) -> str:
    """Execute job ``job_id`` if it is due; return what happened (``succeeded``, ``paused``, ...)."""
    system, outcome = _job_run(job_id, worker)
    metrics.job_wakeups.labels(system, outcome).inc()
    return outcome


def _job_run(job_id: int, worker: str) -> tuple[str, str]:
    now = timezone.now()
    job = jobs_with_payload_facts().filter(pk=job_id).first()
    if job is None or job.status not in WAITING_JOB_STATUSES or job.next_attempt_at > now:
        return (job.system if job else ""), "not_due"
    gate = system_gate(system=job.system, now=now)
    if gate.paused:
        return job.system, "paused"  # stays pending; system_resume wakes it
    if gate.breaker == HELD:
        _postpone(job, gate.until + timedelta(seconds=random.uniform(0, 5)), now)
        return job.system, "held"
    provider = provider_for(job.system)
    if not holds_slot(job.rate_slot_at, provider, now):
        wait = rate_take(provider=provider, action=job.action)
        if wait > 0:  # the slot is this job's now: parked until then, woken once
            _postpone(job, now + timedelta(seconds=wait), now, slot=True)
            return job.system, "rate_limited"
    if not _claim(job, worker, now):
        return job.system, "claimed_elsewhere"
    return job.system, _execute(job, provider, worker, gate=gate)


def _postpone(job: SyncJob, at: datetime, now: datetime, *, slot: bool = False) -> None:
    """Wait without spending an attempt; wake again on time when the wait is short, else the
    sweeper wakes it on time. ``slot``: ``at`` is the rate-limit slot the job reserved."""
    moved = SyncJob.objects.due(now).filter(pk=job.pk).update(
        next_attempt_at=at, rate_slot_at=at if slot else None, updated_at=now, enqueued_at=None
    )
    delay = (at - now).total_seconds()
    if moved and delay <= settings.SYNC_SWEEP_INTERVAL:
        jobs_enqueue_on_commit(job_ids=[job.pk], countdown=delay)


def _claim(job: SyncJob, worker: str, now: datetime) -> bool:
    won = SyncJob.objects.due(now).filter(pk=job.pk).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        lease_owner=worker[:100],
        lease_expires_at=now + timedelta(seconds=settings.SYNC_LEASE_SECONDS),
        rate_slot_at=None,
        updated_at=now,
    )
    if won:  # what the UPDATE wrote, without reading the row again
        job.status, job.attempts, job.lease_owner = JobStatus.RUNNING, job.attempts + 1, worker[:100]
    return bool(won)


def _execute(job: SyncJob, provider, worker: str, *, gate: Gate) -> str:
    started, clock = timezone.now(), time.monotonic()
    error: ProviderError | None = None
    result = Result()
    payload = job_payload(job)  # after the claim: it carries this attempt's number
    with recording() as trace:
        try:
            result = provider.perform(payload)
        except ProviderError as exc:
            error = exc
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not leave the job running
            log.exception("sync.adapter_crashed", job_id=job.pk, provider=provider.NAME)
            error = ProviderError(f"{provider.NAME} adapter failed ({type(exc).__name__})", permanent=False)
    attempt = SyncAttempt(
        job=job, number=job.attempts, started_at=started, duration_ms=int((time.monotonic() - clock) * 1000),
        outcome="ok" if error is None else ("permanent" if error.permanent else "transient"),
        status_code=error.status_code if error else None,
        error_class=error.reason_code if error else "",
        message=(error.message if error else f"done by {provider.NAME}")[:500],
        request_summary={"provider": provider.NAME, "calls": [_request_part(c) for c in trace]},
        response_summary={"calls": [_response_part(c) for c in trace], "external_id": result.external_id},
    )
    outcome = _finish(job, provider, worker, attempt, result, error)
    _tell_breaker(job.system, error, gate)
    metrics.job_attempts.labels(job.system, attempt.outcome).inc()
    if outcome == "succeeded":
        metrics.job_latency_seconds.labels(job.system).observe((timezone.now() - job.created_at).total_seconds())
    log.info("sync.job_attempt", job_id=job.pk, system=job.system, action=job.action, provider=provider.NAME,
             outcome=outcome, reason=error.reason_code if error else "", attempt=job.attempts,
             customer=log_hash(job.customer.public_id))
    return outcome


def _request_part(call: dict) -> dict:
    return {k: v for k, v in call.items() if k != "response"}


def _response_part(call: dict) -> dict:
    return {k: call[k] for k in ("status", "error", "ms", "response") if k in call}


def _tell_breaker(system: str, error: ProviderError | None, gate: Gate) -> None:
    probe = gate.breaker == PROBE
    # Outages and rejected credentials concern the whole system; a 429 or a bad record does not.
    system_wide = error is not None and (
        (not error.permanent and error.reason_code != ReasonCode.RATE_LIMITED)
        or error.reason_code == ReasonCode.AUTH_FAILED
    )
    if error is None:
        if gate.failures or probe:  # nothing to reset otherwise: spare the two writes
            breaker_record_success(system=system)
    elif system_wide:
        breaker_record_failure(system=system, reason=error.reason_code, probe=probe, now=timezone.now())
    elif probe:
        breaker_record_success(system=system)  # it answered: the system is up


def _finish(job, provider, worker, attempt, result: Result, error: ProviderError | None) -> str:
    now = timezone.now()
    mine = SyncJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING, lease_owner=worker[:100])
    done = dict(lease_owner="", lease_expires_at=None, updated_at=now)
    with transaction.atomic():
        attempt.save()
        if error is None:
            note = _link(job, provider, result)
            # Nothing reached the tool: marked, so the job can be sent for real once it has credentials.
            changed = mine.update(status=JobStatus.SUCCEEDED, external_id=result.external_id[:255],
                                  reason_code="", last_error=note, finished_at=now,
                                  simulated=provider.NAME == SANDBOX, **done)
            outcome = "succeeded"
            if changed:
                success_hooks_run(job=job, external_id=result.external_id)
        elif error.permanent or job.attempts >= settings.SYNC_MAX_ATTEMPTS:
            reason = error.reason_code if error.permanent else ReasonCode.RETRIES_EXHAUSTED
            changed = mine.update(status=JobStatus.DEAD, reason_code=reason, last_error=error.message[:500],
                                  finished_at=now, **done)
            outcome = "dead"
        else:
            at = now + timedelta(seconds=backoff_seconds(
                attempt=job.attempts, base=settings.SYNC_RETRY_BASE_SECONDS, cap=settings.SYNC_RETRY_MAX_SECONDS,
                retry_after=error.retry_after,
            ))
            changed = mine.update(status=JobStatus.RETRYING, next_attempt_at=at, last_error=error.message[:500],
                                  reason_code=error.reason_code, enqueued_at=None, **done)
            outcome = "retrying"
            if changed and (at - now).total_seconds() <= settings.SYNC_SWEEP_INTERVAL:
                jobs_enqueue_on_commit(job_ids=[job.pk], countdown=(at - now).total_seconds())
        if not changed:
            # The lease ran out and the sweeper handed the job on; the newer run decides.
            log.warning("sync.lease_lost", job_id=job.pk, outcome=outcome)
            return "lease_lost"
    return outcome


def _link(job: SyncJob, provider, result: Result) -> str:
    """Record the customer's id in that system; a clash is noted on the job, not fatal."""
    if not (result.link and result.external_id):
        return ""
    if str(result.external_id).strip() == getattr(job, "linked_id", None):
        return ""  # already this customer's id there: customer_link would find it and change nothing
    try:  # customer_link guards its own write with a savepoint
        customer_link(customer=job.customer, system=job.system, external_id=result.external_id,
                      provider=provider.NAME)
    except CustomerError as exc:
        return str(exc)[:500]
    return ""
