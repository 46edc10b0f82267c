"""Retrying dead jobs by hand, one at a time or in bulk with a dry run first."""

from dataclasses import dataclass
from datetime import timedelta
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from audit.models import Source
from audit.services import audit_record
from sync.errors import SyncError
from sync.models import JobStatus, SyncJob
from sync.services.outbox import jobs_enqueue_on_commit
from sync.services.rules import mapping_rules_current

WILL_DO, ALREADY_DONE, WOULD_CHANGE, QUEUED = "will do", "already done", "would change", "already queued"
# Actions that write the customer's current state: a retry sends today's values, not the old ones.
STATE_ACTIONS = {"upsert_contact", "upsert_user"}
COMPARED = ("status", "plan", "mrr", "currency", "lifecycle_stage")
# Actions that undo each other: a later success of either settles the earlier one.
FAMILIES = {"grant_access": "access", "revoke_access": "access", "add_tag": "tag", "remove_tag": "tag"}


@dataclass(frozen=True)
class PlanLine:
    job_id: int
    verdict: str
    text: str

    def __str__(self) -> str:
        return f"#{self.job_id} {self.verdict}: {self.text}"


def refreshed_payload(job: SyncJob, rules: dict | None = None) -> dict:
    """The payload a retry would send now (state actions follow the customer's current record)."""
    if job.action not in STATE_ACTIONS:
        return dict(job.payload)
    customer = job.customer
    payload = {**job.payload, "status": customer.effective_status, "plan": customer.plan,
               "mrr": customer.mrr, "currency": customer.currency}
    if job.action == "upsert_contact":
        rules = rules if rules is not None else mapping_rules_current()
        crm = rules["crm"].rules if "crm" in rules else {}
        payload["lifecycle_stage"] = crm.get("lifecycle_stage", {}).get(payload["status"], "")
    return payload


def _changes(job: SyncJob, payload: dict) -> list[str]:
    return [
        f"{key} {job.payload.get(key)!s} to {payload.get(key)!s}"
        for key in COMPARED
        if key in payload and job.payload.get(key) != payload.get(key)
    ]


def _superseded_by(job: SyncJob) -> SyncJob | None:
    later = SyncJob.objects.filter(
        customer_id=job.customer_id, system=job.system, status=JobStatus.SUCCEEDED, created_at__gt=job.created_at
    )
    if job.action in FAMILIES:
        family = [a for a, f in FAMILIES.items() if f == FAMILIES[job.action]]
        later = later.filter(action__in=family)
        if FAMILIES[job.action] == "tag":
            later = later.filter(payload__tag=job.payload.get("tag"))
    elif job.action in STATE_ACTIONS:
        later = later.filter(action=job.action)
    else:
        return None  # tickets: each one is its own fact
    return later.order_by("created_at").first()


def job_plan(job: SyncJob, rules: dict | None = None) -> tuple[PlanLine, dict | None]:
    """What a retry of ``job`` would do, and the payload it would send (None when nothing)."""
    if job.status == JobStatus.SUCCEEDED:
        return PlanLine(job.pk, ALREADY_DONE, "it succeeded already"), None
    if job.status in (JobStatus.PENDING, JobStatus.RUNNING):
        return PlanLine(job.pk, QUEUED, f"it is {job.status} now"), None
    newer = _superseded_by(job)
    if newer is not None:
        return PlanLine(job.pk, ALREADY_DONE, f"a later job (#{newer.pk}) already brought it up to date"), None
    payload = refreshed_payload(job, rules)
    changes = _changes(job, payload)
    if changes:
        return PlanLine(job.pk, WOULD_CHANGE, "would change " + ", ".join(changes)), payload
    return PlanLine(job.pk, WILL_DO, f"will {job.action.replace('_', ' ')} in {job.system}"), payload


def _requeue(job: SyncJob, payload: dict, *, at, rule_version) -> bool:
    return bool(
        SyncJob.objects.filter(pk=job.pk, status__in=[JobStatus.DEAD, JobStatus.RETRYING]).update(
            status=JobStatus.PENDING, attempts=0, next_attempt_at=at, reason_code="", last_error="",
            finished_at=None, payload=payload, rule_version=rule_version, updated_at=timezone.now(),
            lease_owner="", lease_expires_at=None, enqueued_at=None,
        )
    )


def job_retry(*, job: SyncJob, actor, source: str = Source.UI) -> SyncJob:
    """Run a dead (or waiting) job again now, with the same idempotency key."""
    rules = mapping_rules_current()
    line, payload = job_plan(job, rules)
    if payload is None:
        raise SyncError(f"Nothing to retry: {line.text}.")
    version = rules[job.system].version if job.action in STATE_ACTIONS and job.system in rules else job.rule_version
    with transaction.atomic():
        if not _requeue(job, payload, at=timezone.now(), rule_version=version):
            raise SyncError("This job changed while you were looking at it; reload and try again.")
        audit_record(action="sync.job_retry", source=source, actor=actor, customer=job.customer, target=job,
                     summary=f"Retried {job.system} {job.action} (#{job.pk}): {line.text}"[:300],
                     changes={"job": job.pk, "verdict": line.verdict,
                              "status": [job.status, JobStatus.PENDING], "last_error": job.last_error[:200]})
        jobs_enqueue_on_commit(job_ids=[job.pk])
    job.refresh_from_db()
    return job


def jobs_retry_bulk(
    *, jobs: Iterable[SyncJob], actor, source: str = Source.UI, dry_run: bool = False
) -> list[PlanLine]:
    """Plan (and unless ``dry_run``, execute) a retry of many jobs.

    Returns one line per job: will do / would change X to Y / already done /
    already queued. Only the first two are executed. The work is spread over
    time at each provider's published rate, so a large replay does not earn 429s.
    """
    rules = mapping_rules_current()
    planned = [(job, *job_plan(job, rules)) for job in jobs]
    lines = [line for _, line, _ in planned]
    if dry_run:
        return lines
    todo = [(job, payload) for job, _, payload in planned if payload is not None]
    if not todo:
        return lines
    with transaction.atomic():
        due_now = _requeue_spread(todo, rules)
        audit_record(
            action="sync.jobs_retry_bulk", source=source, actor=actor,
            summary=f"Retried {len(todo)} of {len(lines)} selected jobs",
            changes={"jobs": [job.pk for job, _ in todo], "skipped": len(lines) - len(todo)},
        )
        jobs_enqueue_on_commit(job_ids=due_now)
    return lines


def _requeue_spread(todo: list[tuple[SyncJob, dict]], rules: dict) -> list[int]:
    """Requeue each job at a time its provider's rate allows; return the ids due at once."""
    from sync.providers import provider_for
    from sync.ratelimit import seconds_per_call

    now = timezone.now()
    offsets: dict[str, float] = {}
    due_now = []
    for job, payload in todo:
        provider = provider_for(job.system)
        at = now + timedelta(seconds=offsets.get(provider.NAME, 0.0))
        offsets[provider.NAME] = offsets.get(provider.NAME, 0.0) + seconds_per_call(provider, job.action)
        version = rules[job.system].version if job.action in STATE_ACTIONS and job.system in rules else job.rule_version
        if _requeue(job, payload, at=at, rule_version=version) and at <= now:
            due_now.append(job.pk)
    return due_now
