"""Reads that feed the webhook log screens."""

from django.apps import apps
from django.db.models import Q, QuerySet

from billing.models import StripeEvent, StripeMirror
from core.redact import redact
from customers.models import CustomerStatusChange
from customers.selectors import visible_through_customer


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
    try:
        from billing.services.processing import HANDLED
    except ImportError:
        return []
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
