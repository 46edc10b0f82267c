"""Which canonical customer a Stripe fact belongs to. Never guessed from an email."""

from collections.abc import Callable

from django.db import IntegrityError, transaction

from customers.models import Customer, DistinctPair, ExternalLink, System
from customers.status import customer_state_refresh


def customer_for_stripe_id(*, stripe_customer_id: str, email: str = "", name: str = "") -> Customer | None:
    """Find (or create on first sight) the customer linked to a Stripe customer id, locked for this transaction.

    The row lock is what applies one customer's events one at a time: a second
    worker with an event for the same customer waits here until the first commits.
    """
    if not stripe_customer_id:
        return None
    # One query finds and locks the linked customer (only its row: "of self").
    linked = Customer.objects.select_for_update(of=("self",)).filter(
        links__system=System.STRIPE, links__external_id=stripe_customer_id
    )
    customer = linked.first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(email=email, name=name)
                ExternalLink.objects.create(customer=customer, system=System.STRIPE, external_id=stripe_customer_id)
                return Customer.objects.select_for_update().get(pk=customer.pk)
        except IntegrityError:
            customer = linked.get()
    seen = {customer.pk}
    while customer.merged_into_id and customer.merged_into_id not in seen:  # follow merge tombstones
        seen.add(customer.merged_into_id)
        customer = Customer.objects.select_for_update().get(pk=customer.merged_into_id)
    return customer


def _latest_from_events(customer: Customer, readers: dict[str, Callable[[dict], str]]) -> dict[str, str]:
    """Per reader, the newest value Stripe sent for this customer: customer objects first, then any object.

    One pass over the log serves every reader; the second query runs only when the
    customer objects left a reader without a value.
    """
    from billing.models import StripeEvent

    events = StripeEvent.objects.filter(customer=customer).order_by("-created", "-stripe_id")
    customer_objects = events.filter(type__in=["customer.created", "customer.updated", "customer.deleted"])
    found: dict[str, str] = {}
    for queryset in (customer_objects, events):
        for payload in queryset.values_list("payload", flat=True)[:50]:
            for name, read in readers.items():
                if name not in found:
                    value = read(payload["data"]["object"])
                    if value:
                        found[name] = value
            if len(found) == len(readers):
                return found
    return found


def customer_identity_refresh(*, customer: Customer) -> None:
    """Email and name are the newest ones Stripe sent for this customer.

    Read from the stored event log in Stripe's order, so the result does not
    depend on the order in which the events arrived.
    """
    from billing.parsing import customer_email, customer_name

    latest = _latest_from_events(customer, {"email": customer_email, "name": customer_name})
    new_email = latest.get("email") or customer.email
    new_name = latest.get("name") or customer.name
    changed = []
    if new_email != customer.email:
        customer.email = new_email
        changed.append("email")
    if new_name != customer.name:
        customer.name = new_name
        changed.append("name")
    if changed:
        customer.save(update_fields=[*changed, "updated_at"])
    flag_email_conflicts(customer=customer)


def flag_email_conflicts(*, customer: Customer) -> list[Customer]:
    """Same email, different Stripe customer: flag both for a human instead of merging."""
    if not customer.email:
        return []
    # The pairs marked distinct are subqueries: one round trip, whatever the history.
    others = list(
        Customer.objects.live()
        .filter(email__iexact=customer.email)
        .exclude(pk=customer.pk)
        .exclude(pk__in=DistinctPair.objects.filter(low=customer).values("high_id"))
        .exclude(pk__in=DistinctPair.objects.filter(high=customer).values("low_id"))
        .select_for_update()
        .order_by("pk")
    )
    for other in others:
        for person, twin in ((customer, other), (other, customer)):
            reason = f"Same email as {twin.public_id}, a different Stripe customer"
            if not person.review_reason:
                person.review_reason = reason
                person.save(update_fields=["review_reason", "updated_at"])
        customer_state_refresh(customer=other)  # the twin's status changes too, not only on its next event
    return others
