"""What the tool serving a job is given: one frozen ``Payload``, built here and nowhere else."""

from types import MappingProxyType

from django.db.models import OuterRef, Q, QuerySet, Subquery

from customers.links import customer_360_url
from customers.models import ExternalLink, System
from sync.models import JobStatus, SyncJob
from sync.providers import Payload


def jobs_with_payload_facts() -> QuerySet[SyncJob]:
    """Jobs loaded with all their payload needs, in the one query: the customer, the customer's
    Stripe id and their id in the job's system (a success that changes no link writes none)."""
    links = ExternalLink.objects.filter(customer=OuterRef("customer_id"))
    return SyncJob.objects.select_related("customer").annotate(
        linked_id=Subquery(links.filter(system=OuterRef("system")).values("external_id")[:1]),
        stripe_id=Subquery(links.filter(system=System.STRIPE).values("external_id")[:1]),
    )


def job_payload(job: SyncJob) -> Payload:
    """The payload of ``job``'s current attempt; ``job`` comes from ``jobs_with_payload_facts``.

    A job without a customer (a desk ticket for someone who is not one yet) speaks for its requester:
    their email and name, and no id, Stripe id or 360 page of ours."""
    customer = job.customer
    data = dict(job.payload)
    if "desk_job_id" in data:  # a job about the record another job created: that record's id as of now
        data["desk_ticket_id"] = created_record_id(data["desk_job_id"]) or data.get("desk_ticket_id", "")
    if customer is None:
        requester = job.payload.get("requester") or {}
        return Payload(
            job_id=job.pk, system=job.system, action=job.action, attempt=job.attempts,
            idempotency_key=job.idempotency_key, public_id="", email=requester.get("email", ""),
            name=requester.get("name", ""), stripe_id="", customer_url="", linked_id="",
            data=MappingProxyType(data),
        )
    return Payload(
        job_id=job.pk,
        system=job.system,
        action=job.action,
        attempt=job.attempts,
        idempotency_key=job.idempotency_key,
        public_id=customer.public_id,
        email=customer.email,
        name=customer.name,
        stripe_id=job.stripe_id or "",
        customer_url=customer_360_url(customer.public_id),
        linked_id=job.linked_id or "",
        data=MappingProxyType(data),
    )


def created_record_id(job_id: int) -> str:
    """The outside id of what job ``job_id`` created: the real tool's when a replay sent it there
    (its key, and so the tool's external id, is the replay's), else the job's own; "" before either."""
    done = SyncJob.objects.filter(Q(pk=job_id) | Q(replay_of_id=job_id), status=JobStatus.SUCCEEDED)
    return done.exclude(external_id="").order_by("simulated", "-pk").values_list("external_id", flat=True).first() or ""
