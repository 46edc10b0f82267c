from django.db import IntegrityError, transaction

from customers.models import Customer, ExternalLink


class CustomerError(Exception):
    """A customer action that cannot be done, with a sentence a person can read."""


def customer_link(*, customer: Customer, system: str, external_id: str, provider: str = "") -> ExternalLink:
    """Record ``customer``'s id in ``system``. Idempotent; refuses to steal another customer's id."""
    external_id = str(external_id).strip()
    if not external_id:
        raise CustomerError(f"An empty {system} id cannot be linked.")
    existing = ExternalLink.objects.filter(system=system, external_id=external_id).first()
    if existing is not None:
        if existing.customer_id != customer.pk:
            raise CustomerError(f"That {system} id already belongs to another customer.")
        return existing
    try:
        with transaction.atomic():
            link, _ = ExternalLink.objects.update_or_create(
                customer=customer, system=system, defaults={"external_id": external_id, "provider": provider}
            )
    except IntegrityError as exc:  # a concurrent writer linked the same id first
        raise CustomerError(f"That {system} id already belongs to another customer.") from exc
    return link
