"""Writing outbound work (the outbox).

``jobs_for_billing_change`` is registered with billing as a consumer of billing changes
(``SyncConfig.ready``): billing calls it inside the event's transaction, knowing nothing of sync.
"""

import hashlib

import structlog
from django.db import transaction
from django.utils import timezone

from audit.context import current_correlation_id
from billing.consumers import BillingChange
from core.outages import BROKER, BROKER_ERRORS
from customers.models import Customer
from sync.models import SyncJob
from sync.rules import TICKET_ACTION, planned_work
from sync.services.rules import mapping_rules_current

log = structlog.get_logger(__name__)


def idempotency_key(*, cause: str, customer: Customer, system: str, action: str, suffix: str = "") -> str:
    return fitted_key(f"{cause}:{customer.public_id}:{system}:{action}" + (f":{suffix}" if suffix else ""))


def fitted_key(key: str) -> str:
    """``key`` within the column's 200 characters; past that a hash keeps it unique and stable."""
    if len(key) > 200:
        key = key[:150] + ":" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key


def jobs_for_billing_change(*, change: BillingChange) -> list[SyncJob]:
    """Write the outbound jobs one billing change causes; schedule them after commit.

    The mapping rules decide the jobs. The idempotency key is derived from the
    event, so replaying it adds nothing. Runs inside the caller's transaction.
    """
    customer, source_event = change.customer, change.source_event
    rules = mapping_rules_current()
    plan = planned_work(rules_by_system={s: r.rules for s, r in rules.items()}, before=change.before, after=change.after)
    correlation_id, now = current_correlation_id(), timezone.now()
    wanted: dict[str, SyncJob] = {}
    for planned in plan:
        if planned.action == TICKET_ACTION:
            continue  # tickets have one path: support's planner writes our Ticket and its desk job
        key = idempotency_key(
            cause=source_event.stripe_id, customer=customer, system=planned.system,
            action=planned.action, suffix=planned.key_suffix,
        )
        wanted[key] = SyncJob(
            idempotency_key=key,
            customer=customer,
            system=planned.system,
            action=planned.action,
            payload={"event_type": change.event_type, **planned.payload},
            source_event=source_event,
            rule_version=rules[planned.system].version if planned.system in rules else None,
            correlation_id=correlation_id,
            next_attempt_at=now,
            enqueued_at=now,  # the wake-up below is published right after commit
        )
    created = _jobs_insert(wanted)
    jobs_enqueue_on_commit(job_ids=[j.pk for j in created], marked=True)
    return created


def _jobs_insert(wanted: dict[str, SyncJob]) -> list[SyncJob]:
    """Insert the jobs whose key is new, in one statement; a replayed event finds its keys taken.

    No django-auditlog entry: bulk_create sends no signals. Writing a job is the machine
    following the mapping rules, not a person acting; the row itself names its cause
    (source event, rule version, correlation id) and every try is kept as a SyncAttempt.
    A person's actions on jobs (retry, assign) keep their explicit audit records.
    The event's row lock (``event_process``) means no other transaction writes these keys
    meanwhile; if one ever did, the unique key fails this transaction and the event is retried.
    """
    if not wanted:
        return []
    taken = set(
        SyncJob.objects.filter(idempotency_key__in=list(wanted)).values_list("idempotency_key", flat=True)
    )
    return SyncJob.objects.bulk_create([job for key, job in wanted.items() if key not in taken])


def jobs_enqueue_on_commit(*, job_ids: list[int], countdown: float | None = None, marked: bool = False) -> None:
    """Wake workers for these jobs once the surrounding transaction has committed.

    ``marked``: the caller already set ``enqueued_at`` inside the transaction.
    """
    if job_ids:
        transaction.on_commit(
            lambda: jobs_enqueue(job_ids=job_ids, countdown=countdown, marked=marked), robust=True
        )


def jobs_enqueue(*, job_ids: list[int], countdown: float | None = None, marked: bool = False) -> int:
    """Publish one wake-up per job. A broker failure is logged, never raised: the sweeper repairs it."""
    from sync.tasks import run_job  # a real cycle: the task runs the executor, which enqueues through here

    if not job_ids:
        return 0
    if BROKER.down:  # known down a moment ago: leave the wake-ups to the sweeper at once
        if marked:
            SyncJob.objects.filter(pk__in=job_ids).update(enqueued_at=None)
        return 0
    if not marked:
        # Marked before publishing, so a fast worker's own later changes are not overwritten.
        SyncJob.objects.filter(pk__in=job_ids).update(enqueued_at=timezone.now())
    sent = 0
    try:
        # One pooled broker connection for the whole batch, instead of one checkout per message.
        with run_job.app.producer_or_acquire() as producer:
            for pk in job_ids:
                run_job.apply_async(args=[pk], countdown=countdown, producer=producer)
                sent += 1
    except BROKER_ERRORS as exc:  # the row is the record; a lost wake-up is repaired later
        BROKER.failed(exc)
        log.warning("sync.enqueue_failed", job_id=job_ids[min(sent, len(job_ids) - 1)],
                    error_class=type(exc).__name__)
        # The broker is down: stop spending the publish retry policy once per job.
        SyncJob.objects.filter(pk__in=job_ids[sent:]).update(enqueued_at=None)
    else:
        BROKER.answered()
    return sent
