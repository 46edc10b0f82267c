"""What every adapter needs from our own records."""

import functools

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from customers.models import Customer, ExternalLink, System
from sync.models import SyncJob
from sync.providers.http import ProviderError
from sync.models import ReasonCode


def stripe_id(customer: Customer) -> str:
    link = ExternalLink.objects.filter(customer=customer, system=System.STRIPE).only("external_id").first()
    return link.external_id if link else ""


def linked_id(customer: Customer, system: str) -> str:
    link = ExternalLink.objects.filter(customer=customer, system=system).only("external_id").first()
    return link.external_id if link else ""


@functools.cache
def _customer_path() -> str:
    # Reversed once per process: reverse() costs more than the rest of building a request.
    try:
        return reverse("customer_detail", kwargs={"public_id": "PUBLIC_ID"})
    except NoReverseMatch:
        return "/customers/PUBLIC_ID/"


def customer_url(customer: Customer) -> str:
    return settings.SITE_URL + _customer_path().replace("PUBLIC_ID", customer.public_id)


def unsupported(provider: str, job: SyncJob) -> ProviderError:
    return ProviderError(f"{provider} cannot {job.action.replace('_', ' ')}", permanent=True,
                         reason_code=ReasonCode.VALIDATION)


def need_email(provider: str, customer: Customer) -> None:
    if not customer.email:
        raise ProviderError(f"{provider} needs the customer's email, and this customer has none",
                            permanent=True, reason_code=ReasonCode.VALIDATION)


def ticket_text(job: SyncJob, customer: Customer) -> tuple[str, str]:
    subject = job.payload.get("subject") or job.action.replace("_", " ").capitalize()
    body = (f"{subject} for {customer.name or customer.public_id} (plan {job.payload.get('plan') or '-'}, "
            f"status {job.payload.get('status') or '-'}). Details: {customer_url(customer)}")
    # A support ticket brings its own text: what the person wrote, and who the customer is.
    return subject, job.payload.get("body") or body
