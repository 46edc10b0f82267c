from datetime import timedelta

from django.utils import timezone

from billing.consumers import BillingChange, billing_change_dispatch
from customers.models import ExternalLink, System
from sync.models import JobStatus, SyncJob
from sync.services import job_run, jobs_sweep
from tests.factories import CustomerFactory, StripeEventFactory, SyncJobFactory

STATE = {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"}


def customer_with_stripe(**kwargs):
    customer = CustomerFactory(**kwargs)
    ExternalLink.objects.create(customer=customer, system=System.STRIPE, external_id=f"cus_{customer.public_id}")
    return customer


def billing_change(customer, event_type: str, before: dict, after: dict, event=None) -> list[SyncJob]:
    """What billing does once an event is applied: hand the change to every registered consumer
    (sync's job planner, support's ticket planner). Returns the jobs this change wrote."""
    event = event or StripeEventFactory(customer=customer)
    existing = set(SyncJob.objects.filter(source_event=event).values_list("pk", flat=True))
    billing_change_dispatch(change=BillingChange(
        customer=customer, source_event=event, event_type=event_type, before=before, after=after,
    ))
    return list(SyncJob.objects.filter(source_event=event).exclude(pk__in=existing).order_by("pk"))


def make_job(system: str, action: str, customer=None, **payload) -> SyncJob:
    return SyncJobFactory(
        customer=customer or customer_with_stripe(), system=system, action=action, payload={**STATE, **payload}
    )


def run(job: SyncJob, worker: str = "worker-1") -> str:
    outcome = job_run(job_id=job.pk, worker=worker)
    job.refresh_from_db()
    return outcome


def drain(traveller, *, rounds: int = 80, step: float = 61) -> int:
    """Move the clock past every wait and sweep until no job is open; return the rounds used."""
    for n in range(rounds):
        if not SyncJob.objects.open().exists():
            return n
        traveller.shift(timedelta(seconds=step))
        jobs_sweep()
    raise AssertionError(f"still open after {rounds} rounds: "
                         f"{list(SyncJob.objects.open().values_list('status', 'last_error')[:5])}")


def due_now(job: SyncJob) -> None:
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now(), status=JobStatus.RETRYING)
