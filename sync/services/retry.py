"""Retrying dead jobs by hand, one at a time or in bulk with a dry run first."""

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet, prefetch_related_objects
from django.utils import timezone

from audit.models import Source
from audit.services import audit_record
from sync.errors import SyncError
from sync.models import JobStatus, SyncJob
from sync.providers import provider_for
from sync.ratelimit import seconds_per_call
from sync.services.outbox import jobs_enqueue_on_commit
from sync.services.rules import mapping_rules_current
from sync.services.sweeper import jobs_wake_on_time

WILL_DO, ALREADY_DONE, WOULD_CHANGE, QUEUED = "will do", "already done", "would change", "already queued"
# Actions that write the customer's current state: a retry sends today's values, not the old ones.
STATE_ACTIONS = {"upsert_contact", "upsert_user"}
COMPARED = ("status", "plan", "mrr", "currency", "lifecycle_stage")
# Actions that undo each other: a later success of either settles the earlier one.
FAMILIES = {"grant_access": "access", "revoke_access": "access", "add_tag": "tag", "remove_tag": "tag"}
# Jobs planned and written per query: bounded IN lists (SQLite's too) and memory.
CHUNK = 1000
# What a retry may put back to pending (a set-aside job too: retrying is one way to undo it).
RETRYABLE = (JobStatus.DEAD, JobStatus.RETRYING, JobStatus.SET_ASIDE)


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
        _change(key, job.payload.get(key), payload.get(key))
        for key in COMPARED
        if key in payload and job.payload.get(key) != payload.get(key)
    ]


def _change(key: str, old, new) -> str:
    """"status past_due to active"; a value that was not there is not printed as Python's None."""
    if old in (None, ""):
        return f"{key} to {new}"
    if new in (None, ""):
        return f"{key} from {old} to nothing"
    return f"{key} {old} to {new}"


def _same_kind(action: str) -> list[str]:
    """Actions whose later success settles a job of ``action`` (none for tickets: each is its own fact)."""
    if action in FAMILIES:
        return [a for a, f in FAMILIES.items() if f == FAMILIES[action]]
    return [action] if action in STATE_ACTIONS else []


def _superseding(jobs: list[SyncJob]) -> dict[int, int]:
    """For each job a later success of the same kind made unnecessary: that success's id.

    One query per chunk of jobs (not one per job): a "retry all" plans thousands at once.
    """
    candidates = [job for job in jobs if _same_kind(job.action)]
    found: dict[int, int] = {}
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start:start + CHUNK]
        successes: dict[tuple, list] = defaultdict(list)
        rows = (
            SyncJob.objects.filter(
                status=JobStatus.SUCCEEDED,
                customer_id__in={job.customer_id for job in chunk},
                system__in={job.system for job in chunk},
                action__in={a for job in chunk for a in _same_kind(job.action)},
            )
            .order_by("created_at", "pk")
            .values_list("pk", "customer_id", "system", "action", "created_at", "payload")
        )
        for pk, customer_id, system, action, created_at, payload in rows:
            successes[(customer_id, system)].append((pk, action, created_at, payload.get("tag")))
        for job in chunk:
            kind, tag = _same_kind(job.action), job.payload.get("tag")
            for pk, action, created_at, success_tag in successes[(job.customer_id, job.system)]:
                if created_at > job.created_at and action in kind and (
                    FAMILIES.get(job.action) != "tag" or success_tag == tag
                ):
                    found[job.pk] = pk
                    break
    return found


def job_plan(job: SyncJob, rules: dict | None = None, *, newer: dict[int, int] | None = None
             ) -> tuple[PlanLine, dict | None]:
    """What a retry of ``job`` would do, and the payload it would send (None when nothing).

    ``newer`` is ``_superseding`` of a batch that holds ``job``; alone, it is looked up here.
    """
    if job.status == JobStatus.SUCCEEDED:
        return PlanLine(job.pk, ALREADY_DONE, "it succeeded already"), None
    if job.status in (JobStatus.PENDING, JobStatus.RUNNING):
        return PlanLine(job.pk, QUEUED, f"it is {job.status} now"), None
    later = (newer if newer is not None else _superseding([job])).get(job.pk)
    if later is not None:
        return PlanLine(job.pk, ALREADY_DONE, f"a later job (#{later}) already brought it up to date"), None
    payload = refreshed_payload(job, rules)
    changes = _changes(job, payload)
    if changes:
        return PlanLine(job.pk, WOULD_CHANGE, "would change " + ", ".join(changes)), payload
    return PlanLine(job.pk, WILL_DO, f"will {job.action.replace('_', ' ')} in {job.system}"), payload


def _rule_version(job: SyncJob, rules: dict) -> int | None:
    # State actions send today's values under today's rules; the others keep what they were written with.
    return rules[job.system].version if job.action in STATE_ACTIONS and job.system in rules else job.rule_version


def _requeue(todo: list[tuple[SyncJob, dict, datetime, int | None]]) -> set[int]:
    """Put each job back to pending at its time with its new payload; return the ids that were
    still dead or retrying (a job that changed meanwhile is left alone). Runs in the caller's
    transaction: the rows are locked, then written with one UPDATE per group of jobs that share
    a time, a rule version and a payload."""
    now = timezone.now()
    taken: set[int] = set()
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start:start + CHUNK]
        locked = set(
            SyncJob.objects.select_for_update()
            .filter(pk__in=[job.pk for job, *_ in chunk], status__in=RETRYABLE)
            .order_by("pk")  # locked in key order, not the model's newest-first: two bulk retries cannot deadlock
            .values_list("pk", flat=True)
        )
        # Payloads hold the customer's state, not the customer: many jobs share one.
        groups: dict[tuple, list[int]] = defaultdict(list)
        payloads: dict[str, dict] = {}
        for job, payload, at, version in chunk:
            if job.pk in locked:
                text = json.dumps(payload, sort_keys=True)
                payloads[text] = payload
                groups[(at, version, text)].append(job.pk)
        for (at, version, text), ids in groups.items():
            SyncJob.objects.filter(pk__in=ids).update(
                status=JobStatus.PENDING, attempts=0, next_attempt_at=at, rule_version=version, payload=payloads[text],
                reason_code="", last_error="", finished_at=None, updated_at=now, lease_owner="", lease_expires_at=None,
                enqueued_at=None, set_aside_note="", set_aside_at=None, set_aside_by=None,
            )
        taken |= locked
    return taken


def job_retry(*, job: SyncJob, actor, source: str = Source.UI) -> SyncJob:
    """Run a dead (or waiting) job again now, with the same idempotency key."""
    rules = mapping_rules_current()
    line, payload = job_plan(job, rules)
    if payload is None:
        raise SyncError(f"Nothing to retry: {line.text}.")
    with transaction.atomic():
        if not _requeue([(job, payload, timezone.now(), _rule_version(job, rules))]):
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
    time at each provider's published rate, so a large replay does not earn 429s;
    the jobs due within one sweep are woken on time, the sweeper wakes the rest.
    """
    rules = mapping_rules_current()
    jobs = _with_customers(jobs)
    newer = _superseding(jobs)
    planned = [(job, *job_plan(job, rules, newer=newer)) for job in jobs]
    lines = [line for _, line, _ in planned]
    if dry_run:
        return lines
    todo = [(job, payload) for job, _, payload in planned if payload is not None]
    if not todo:
        return lines
    now = timezone.now()
    times = _spread(todo, now)
    with transaction.atomic():
        taken = _requeue([(job, payload, times[job.pk], _rule_version(job, rules)) for job, payload in todo])
        audit_record(
            action="sync.jobs_retry_bulk", source=source, actor=actor,
            summary=f"Retried {len(taken)} of {len(lines)} selected jobs",
            # what was really put back; a job that changed while the plan was made is left and counted
            changes={"jobs": [job.pk for job, _ in todo if job.pk in taken], "skipped": len(lines) - len(todo),
                     "changed_meanwhile": len(todo) - len(taken)},
        )
        jobs_wake_on_time({pk: at for pk, at in times.items() if pk in taken}, now=now)
    return lines


def _with_customers(jobs: Iterable[SyncJob]) -> list[SyncJob]:
    """The jobs as a list, each with its customer loaded (state actions send the customer's values)."""
    if isinstance(jobs, QuerySet) and not jobs.query.is_sliced:
        jobs = jobs.select_related("customer")
    jobs = list(jobs)
    prefetch_related_objects(jobs, "customer")  # only those not loaded yet
    return jobs


def _spread(todo: list[tuple[SyncJob, dict]], now: datetime) -> dict[int, datetime]:
    """When each job may run: at its provider's published rate, in slots of whole seconds (a
    second's worth of calls at once is well inside every provider's burst allowance, and jobs
    sharing a slot are written and woken together)."""
    offsets: dict[str, float] = {}
    times = {}
    for job, _ in todo:
        provider = provider_for(job.system)
        # rounded first: ten calls of 0.1 s add up to 0.9999999, which is still the first second
        times[job.pk] = now + timedelta(seconds=math.floor(round(offsets.get(provider.NAME, 0.0), 6)))
        offsets[provider.NAME] = offsets.get(provider.NAME, 0.0) + seconds_per_call(provider, job.action)
    return times
