"""Writing outbound work (the outbox). Billing calls ``jobs_for_billing_change`` inside its transaction."""

import hashlib
from dataclasses import dataclass, field

import structlog
from kombu.exceptions import KombuError
from django.db import transaction
from django.utils import timezone

from audit.context import current_correlation_id
from customers.models import Customer, System
from sync.models import SyncJob
from sync.rules import planned_work
from sync.services.rules import mapping_rules_current

log = structlog.get_logger(__name__)

# What a publish raises when the broker is unreachable (kombu wraps most of it).
BROKER_ERRORS = (KombuError, OSError, TimeoutError)


@dataclass(frozen=True)
class BillingChange:
    """What one applied Stripe event changed for one customer."""

    event_type: str
    before: dict = field(default_factory=dict)  # {"status":..., "plan":..., "mrr":..., "currency":...}
    after: dict = field(default_factory=dict)


def idempotency_key(*, cause: str, customer: Customer, system: str, action: str, suffix: str = "") -> str:
    key = f"{cause}:{customer.public_id}:{system}:{action}" + (f":{suffix}" if suffix else "")
    if len(key) > 200:  # the column's size; a hash keeps it unique and stable
        key = key[:150] + ":" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key


def jobs_for_billing_change(*, customer: Customer, source_event, change: BillingChange) -> list[SyncJob]:
    """Write the outbound jobs one billing change causes; schedule them after commit.

    The mapping rules decide the jobs. The idempotency key is derived from the
    event, so replaying it adds nothing. Runs inside the caller's transaction.
    """
    rules = mapping_rules_current()
    correlation_id = current_correlation_id()
    created: list[SyncJob] = []
    plan = planned_work(rules_by_system={s: r.rules for s, r in rules.items()}, before=change.before, after=change.after)
    for planned in plan:
        if planned.action == "create_ticket":
            continue  # tickets have one path: support writes our Ticket and its desk job (below)
        key = idempotency_key(
            cause=source_event.stripe_id, customer=customer, system=planned.system,
            action=planned.action, suffix=planned.key_suffix,
        )
        job, was_created = SyncJob.objects.get_or_create(
            idempotency_key=key,
            defaults=dict(
                customer=customer,
                system=planned.system,
                action=planned.action,
                payload={"event_type": change.event_type, **planned.payload},
                source_event=source_event,
                rule_version=rules[planned.system].version if planned.system in rules else None,
                correlation_id=correlation_id,
            ),
        )
        if was_created:
            created.append(job)
    created += _tickets(customer, source_event, change, plan, rules)
    jobs_enqueue_on_commit(job_ids=[j.pk for j in created])
    return created


def _tickets(customer: Customer, source_event, change: BillingChange, plan: list, rules: dict) -> list[SyncJob]:
    from support.services import tickets_for_billing_change  # support imports this module

    support = rules.get(System.SUPPORT)
    return tickets_for_billing_change(
        customer=customer, source_event=source_event, event_type=change.event_type,
        status_tickets=[p.payload for p in plan if p.action == "create_ticket"],
        sync_rule_version=support.version if support is not None else None,
    )


def jobs_enqueue_on_commit(*, job_ids: list[int], countdown: float | None = None) -> None:
    """Wake workers for these jobs once the surrounding transaction has committed."""
    if job_ids:
        transaction.on_commit(lambda: jobs_enqueue(job_ids=job_ids, countdown=countdown), robust=True)


def jobs_enqueue(*, job_ids: list[int], countdown: float | None = None) -> int:
    """Publish one wake-up per job. A broker failure is logged, never raised: the sweeper repairs it."""
    from sync.tasks import run_job

    if not job_ids:
        return 0
    # Marked before publishing, so a fast worker's own later changes are not overwritten.
    SyncJob.objects.filter(pk__in=job_ids).update(enqueued_at=timezone.now())
    for sent, pk in enumerate(job_ids):
        try:
            run_job.apply_async(args=[pk], countdown=countdown)
        except BROKER_ERRORS as exc:  # the row is the record; a lost wake-up is repaired later
            log.warning("sync.enqueue_failed", job_id=pk, error_class=type(exc).__name__)
            # The broker is down: stop spending the publish retry policy once per job.
            SyncJob.objects.filter(pk__in=job_ids[sent:]).update(enqueued_at=None)
            return sent
    return len(job_ids)
