"""Reads that feed the webhook log screens."""

from django.apps import apps
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Least

from billing.models import StripeCustomer, StripeEvent, StripeMirror
from billing.services.processing import HANDLED
from core.redact import redact
from customers.models import CustomerStatusChange
from customers.visibility import visible_through_customer


def events_visible_to(*, user) -> QuerySet[StripeEvent]:
    return visible_through_customer(StripeEvent.objects.all(), user=user)


def event_list(*, user, type: str = "", status: str = "", query: str = "") -> QuerySet[StripeEvent]:
    qs = events_visible_to(user=user)
    if type:
        qs = qs.filter(type=type)
    if status:
        qs = qs.filter(status=status)
    query = query.strip()
    if query:
        qs = qs.filter(Q(stripe_id=query) | Q(customer__public_id=query))
    return qs.select_related("customer").defer("payload").order_by("-id")


def event_types() -> list[str]:
    """The event types Switchboard applies, for the filter's suggestions."""
    return sorted(HANDLED)


def event_payload_for(*, user, event: StripeEvent) -> tuple[dict, bool]:
    """The payload as this person may see it, and whether it was redacted.

    Secrets are always removed; personal data (emails, names, addresses,
    phones, card details) only for those without ``billing.view_event_payload``.
    """
    full = user.has_perm("billing.view_event_payload")
    return redact(event.payload, personal=not full), not full


def event_effects(event: StripeEvent) -> dict:
    """What applying the event changed: mirrors it wrote last, status changes and outbound jobs it caused."""
    mirrors = []
    for model in apps.get_app_config("billing").get_models():
        if issubclass(model, StripeMirror):
            for row in model.objects.filter(last_event_id=event.stripe_id).only("id", "stripe_id")[:20]:
                mirrors.append((model._meta.verbose_name, row.stripe_id))
    return {
        "mirrors": mirrors,
        "status_changes": list(
            CustomerStatusChange.objects.filter(source_event=event).select_related("customer")[:20]
        ),
        "jobs": list(event.sync_jobs.select_related("customer")[:50]),
    }


def customer_billing_since() -> Least:
    """When a customer began by billing's clock, as an expression on Customer: its Stripe customer's
    creation or its first Stripe event, whichever is earlier. ``created_at`` is only when Switchboard
    first heard of them, which for history that arrives late (an import, a replay, a new install) is
    weeks or years after. Registered with customers (its list, 360 and review read it)."""
    first_event = StripeEvent.objects.filter(customer=OuterRef("pk")).order_by("created").values("created")[:1]
    stripe_created = (StripeCustomer.objects.filter(customer=OuterRef("pk"), stripe_created__isnull=False)
                      .order_by("stripe_created").values("stripe_created")[:1])
    # Coalesced one by one: SQLite's MIN() of several values is NULL as soon as one is.
    return Least(Coalesce(Subquery(first_event), F("created_at")), Coalesce(Subquery(stripe_created), F("created_at")))
