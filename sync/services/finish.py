"""Recording a batch's tries: one transaction with one insert for the attempts and one UPDATE
per outcome, each only on the jobs the worker still holds; success hooks one job at a time."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.backoff import backoff_seconds
from customers.services import customer_links_record
from sync.hooks import success_hooks, success_hooks_run
from sync.models import JobStatus, ReasonCode, SyncAttempt, SyncJob
from sync.providers import SANDBOX, Result
from sync.providers.errors import ProviderError
from sync.services.columns import per_job
from sync.services.sweeper import jobs_wake_on_time

log = structlog.get_logger(__name__)


@dataclass
class Run:
    """One claimed job's try: what the call returned, and the attempt that records it."""

    job: SyncJob
    attempt: SyncAttempt
    result: Result = field(default_factory=Result)
    error: ProviderError | None = None
    note: str = ""


def runs_finish(runs: list[Run], provider, worker: str) -> dict[int, str]:
    """Record every try and move each job on, in one transaction: one insert for the attempts,
    one UPDATE per outcome, each only on the jobs this worker still holds. A job whose lease ran
    out meanwhile (the sweeper handed it on) is left to the newer run; its attempt is recorded."""
    if not runs:
        return {}
    now = timezone.now()
    held = SyncJob.objects.filter(status=JobStatus.RUNNING, lease_owner=worker)
    done = dict(lease_owner="", lease_expires_at=None, updated_at=now)
    ok, dead, again = [], [], []
    for run in runs:
        if run.error is None:
            ok.append(run)
        elif run.error.permanent or run.job.attempts >= settings.SYNC_MAX_ATTEMPTS:
            dead.append(run)
        else:
            again.append(run)
    times = {run.job.pk: now + timedelta(seconds=backoff_seconds(
        attempt=run.job.attempts, base=settings.SYNC_RETRY_BASE_SECONDS, cap=settings.SYNC_RETRY_MAX_SECONDS,
        retry_after=run.error.retry_after,
    )) for run in again}
    with transaction.atomic():
        SyncAttempt.objects.bulk_create([run.attempt for run in runs])
        outcomes = _succeed(ok, provider, held, done, now)
        reasons = {run.job.pk: _dead_reason(run.error) for run in dead}
        moved = _move(dead, held, now, status=JobStatus.DEAD, finished_at=now, **done, **_errors(dead),
                      reason_code=per_job(reasons, "reason_code"))
        outcomes.update({pk: "dead" for pk in moved})
        reasons = {run.job.pk: run.error.reason_code for run in again}
        moved = _move(again, held, now, status=JobStatus.RETRYING, next_attempt_at=per_job(times, "next_attempt_at"),
                      enqueued_at=None, **done, **_errors(again), reason_code=per_job(reasons, "reason_code"))
        outcomes.update({pk: "retrying" for pk in moved})
        # Those due before the next sweep are woken on time, after commit.
        jobs_wake_on_time({pk: at for pk, at in times.items() if pk in moved}, now=now)
    for run in runs:
        if run.job.pk not in outcomes:
            log.warning("sync.lease_lost", job_id=run.job.pk)
            outcomes[run.job.pk] = "lease_lost"
    return outcomes


def _move(runs: list[Run], held, now: datetime, **fields) -> set[int]:
    """One UPDATE of the jobs of ``runs`` this worker still holds; return the ids it changed."""
    ids = [run.job.pk for run in runs]
    if not ids:
        return set()
    if held.filter(pk__in=ids).update(**fields) == len(ids):
        return set(ids)
    # Some lease ran out meanwhile (rare): read back which rows this UPDATE wrote.
    return set(SyncJob.objects.filter(pk__in=ids, status=fields["status"], updated_at=now, lease_owner="")
               .values_list("pk", flat=True))


def _errors(runs: list[Run]) -> dict:
    return {"last_error": per_job({run.job.pk: run.error.message[:500] for run in runs}, "last_error")}


def _dead_reason(error: ProviderError) -> str:
    return error.reason_code if error.permanent else ReasonCode.RETRIES_EXHAUSTED


def _succeed(runs: list[Run], provider, held, done: dict, now: datetime) -> dict[int, str]:
    """Mark the successes: jobs whose action has success hooks one by one, each with its hooks
    in a savepoint (a hook that raises leaves only its own job running, for the sweeper once the
    lease is over); the rest in one UPDATE."""
    notes = _links(runs, provider)
    for run in runs:
        run.note = (notes.get(run.job.pk) or run.result.note)[:500]
    # Nothing reached the tool: marked, so the job can be sent for real once it has credentials.
    fields = dict(status=JobStatus.SUCCEEDED, reason_code="", finished_at=now, simulated=provider.NAME == SANDBOX,
                  **done)
    hooked = [run for run in runs if success_hooks(action=run.job.action)]
    plain = [run for run in runs if run not in hooked]
    moved = _move(plain, held, now, **fields,
                  external_id=per_job({run.job.pk: run.result.external_id[:255] for run in plain}, "external_id"),
                  last_error=per_job({run.job.pk: run.note for run in plain}, "last_error"))
    outcomes = {pk: "succeeded" for pk in moved}
    for run in hooked:
        try:
            with transaction.atomic():
                if held.filter(pk=run.job.pk).update(external_id=run.result.external_id[:255], last_error=run.note,
                                                     **fields):
                    success_hooks_run(job=run.job, external_id=run.result.external_id)
                    outcomes[run.job.pk] = "succeeded"
        except Exception:  # noqa: BLE001 - one job's hook must not undo the batch's other results
            log.exception("sync.success_hook_failed", job_id=run.job.pk, action=run.job.action)
            outcomes[run.job.pk] = "hook_failed"
    return outcomes


def _links(runs: list[Run], provider) -> dict[int, str]:
    """Record each customer's id in that system, for the whole batch at once; a clash is noted on
    its job (returned by job id), not fatal. A job without a customer (a requester who is not one
    yet) links nothing; nor does one whose customer already has this id there."""
    linking = [run for run in runs if run.job.customer_id is not None and run.result.link and run.result.external_id
               and str(run.result.external_id).strip() != getattr(run.job, "linked_id", None)]
    if not linking:
        return {}
    errors = customer_links_record(system=linking[0].job.system, provider=provider.NAME,
                                   links=[(run.job.customer, run.result.external_id) for run in linking])
    return {run.job.pk: error[:500] for run, error in zip(linking, errors) if error}
