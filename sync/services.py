"""Writing outbound work (the outbox). Billing calls ``jobs_for_billing_change`` inside its transaction."""

from dataclasses import dataclass, field

from django.db import transaction

from audit.context import current_correlation_id
from customers.models import Customer, System
from sync.models import SyncJob


@dataclass(frozen=True)
class BillingChange:
    """What one applied Stripe event changed for one customer."""

    event_type: str
    before: dict = field(default_factory=dict)  # {"status":..., "plan":..., "mrr":...}
    after: dict = field(default_factory=dict)


def jobs_for_billing_change(*, customer: Customer, source_event, change: BillingChange) -> list[SyncJob]:
    """Write the outbound jobs one billing change causes; schedule them after commit.

    The idempotency key is derived from the event, so replaying it adds nothing.
    """
    wanted = [(System.CRM, "upsert_contact")]
    jobs = []
    for system, action in wanted:
        job, created = SyncJob.objects.get_or_create(
            idempotency_key=f"{source_event.stripe_id}:{system}:{action}",
            defaults=dict(
                customer=customer,
                system=system,
                action=action,
                payload={"event_type": change.event_type, "before": change.before, "after": change.after},
                source_event=source_event,
                correlation_id=current_correlation_id(),
            ),
        )
        if created:
            jobs.append(job)
    for job in jobs:
        transaction.on_commit(lambda pk=job.pk: _enqueue(pk))
    return jobs


def _enqueue(job_pk: int) -> None:
    """Wake a worker for this job; if the broker is down, the sweeper picks it up later."""
    try:
        from sync.tasks import run_job

        run_job.delay(job_pk)
    except Exception:  # noqa: BLE001 - the row is the record; a lost wake-up is repaired by the sweeper
        import structlog

        structlog.get_logger(__name__).warning("sync.enqueue_failed", job_id=job_pk)
