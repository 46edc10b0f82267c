"""Customers synced to the tools through the product's own pipeline, for the drift tests."""

from sync.models import ToolDrift, JobStatus, SyncJob
from tests.sync.helpers import billing_change, customer_with_stripe, run

STATES = {
    "active": {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"},
    "past_due": {"status": "past_due", "plan": "Pro", "mrr": 4900, "currency": "usd"},
    "canceled": {"status": "canceled", "plan": "Pro", "mrr": 0, "currency": "usd"},
}


def synced(status: str, **fields):
    """A customer in ``status`` whose billing change has been pushed to every tool."""
    state = STATES[status]
    customer = customer_with_stripe(status=status, plan=state["plan"], mrr=state["mrr"], **fields)
    billing_change(customer, "customer.subscription.updated", {}, state)
    run_open_jobs()
    return customer


def run_open_jobs() -> None:
    for job in SyncJob.objects.filter(status=JobStatus.PENDING).order_by("pk"):
        assert run(job) == "succeeded", (job.system, job.action, job.last_error)


def open_drift() -> set[tuple]:
    return {(d.system, d.customer.public_id if d.customer else "", d.kind, d.field)
            for d in ToolDrift.objects.filter(resolved_at__isnull=True).select_related("customer")}
