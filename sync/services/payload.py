"""What the tool serving a job is given: one frozen ``Payload``, built here and nowhere else."""

from types import MappingProxyType

from django.db.models import OuterRef, QuerySet, Subquery

from customers.links import customer_360_url
from customers.models import ExternalLink, System
from sync.models import SyncJob
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
    """The payload of ``job``'s current attempt; ``job`` comes from ``jobs_with_payload_facts``."""
    customer = job.customer
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
        data=MappingProxyType(dict(job.payload)),
    )
