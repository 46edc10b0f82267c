"""Which canonical customer a Stripe fact belongs to. Never guessed from an email."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from customers.models import Customer, DistinctPair, ExternalLink, System
from customers.status import customer_state_refresh


def customer_for_stripe_id(*, stripe_customer_id: str, email: str = "", name: str = "") -> Customer | None:
    """Find (or create on first sight) the customer linked to a Stripe customer id, locked for this transaction.

    The row lock is what applies one customer's events one at a time: a second
    worker with an event for the same customer waits here until the first commits.
    """
    if not stripe_customer_id:
        return None
    # One query finds and locks the linked customer (only its row: "of self"), and says whether another
    # customer has its email (``flag_email_conflicts``).
    linked = Customer.objects.select_for_update(of=("self",)).filter(
        links__system=System.STRIPE, links__external_id=stripe_customer_id
    ).annotate(email_twin=_EMAIL_TWIN)
    customer = linked.first()
    if customer is None:
        try:
            with transaction.atomic():
                customer = Customer.objects.create(email=email, name=name)
                ExternalLink.objects.create(customer=customer, system=System.STRIPE, external_id=stripe_customer_id)
                return Customer.objects.select_for_update().get(pk=customer.pk)
        except IntegrityError:
            customer = linked.get()
    customer._email_as_read = customer.email  # what ``email_twin`` was read for (by either read above)
    seen = {customer.pk}
    while customer.merged_into_id and customer.merged_into_id not in seen:  # follow merge tombstones
        seen.add(customer.merged_into_id)
        customer = Customer.objects.select_for_update().get(pk=customer.merged_into_id)
    return customer


# Another live customer with the same email (case aside): read with the customer's own row.
_EMAIL_TWIN = Exists(Customer.objects.live().filter(email__iexact=OuterRef("email")).exclude(pk=OuterRef("pk")))


@dataclass(frozen=True)
class Identity:
    email: str = ""
    name: str = ""


def customer_identity_refresh(
    *, customer: Customer, stated: Identity | None = None, seen: Identity | None = None, seen_as_of: tuple = ()
) -> list[str]:
    """Email and name from what billing knows, whatever order Stripe's events arrived in.

    ``stated``: what Stripe's customer object says now (billing's mirror; None when it did
    not change). ``seen``: what the object being applied carried, at ``seen_as_of``, a key
    that orders Stripe's objects. The stated values win; where Stripe's customer object
    has none, the newest seen value does: the newest is kept per field, so the result
    depends only on which objects were applied, not on their order.

    Returns the changed fields, unsaved: the caller's next save writes them.
    """
    evidence = {"stated": dict(customer.identity_evidence.get("stated", {})),
                "seen": dict(customer.identity_evidence.get("seen", {}))}
    if stated is not None:
        evidence["stated"] = {"email": stated.email, "name": stated.name}
    for name in ("email", "name") if seen is not None else ():
        value, held = getattr(seen, name), evidence["seen"].get(name)
        if value and (held is None or list(seen_as_of) > list(held[1])):
            evidence["seen"][name] = [value, list(seen_as_of)]
    changed = []
    if evidence != customer.identity_evidence:
        customer.identity_evidence = evidence
        changed.append("identity_evidence")
    for name in ("email", "name"):
        seen_value = evidence["seen"].get(name, [""])[0]
        value = evidence["stated"].get(name) or seen_value or getattr(customer, name)
        if value != getattr(customer, name):
            setattr(customer, name, value)
            changed.append(name)
    flag_email_conflicts(customer=customer)
    return changed


def flag_email_conflicts(*, customer: Customer) -> list[Customer]:
    """Same email, different Stripe customer: flag both for a human instead of merging."""
    # The read that locked the customer for an event already said whether it has a twin, for the
    # email it had then: nothing more to read or build when that is still its email and it had none.
    if not customer.email or not _twin_possible(customer):
        return []
    twins = Customer.objects.live().filter(email__iexact=customer.email).exclude(pk=customer.pk)
    # Nearly every event's customer has no twin: a plain read on the email index says so, for a
    # third of the CPU of the locking read below (run on every event a worker applies).
    if not twins.exists():
        return []
    # The twins, locked; the pairs marked distinct are subqueries: one round trip, whatever the history.
    others = list(
        twins
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


def _twin_possible(customer: Customer) -> bool:
    """False when the read that locked ``customer`` found no twin for the email it still has."""
    as_read = getattr(customer, "_email_as_read", None)
    return as_read is None or as_read != customer.email or customer.email_twin
