"""Monitoring's part of the queue: open incidents, and differences between Stripe and our mirrors."""

from django.db.models import F

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, one_group, open_items, page_of
from billing.models import Drift
from monitoring.models import Incident
from monitoring.rules import rule_title


def incident_items(ctx: QueueContext) -> list[ActionGroup]:
    """Open alert incidents: something is broken for many customers at once."""
    qs = open_items(
        Incident.objects.filter(resolved_at__isnull=True), kind="incident", since=F("opened_at"), ctx=ctx,
        customer_path=None,
    )
    count, rows = page_of(qs, ctx, shown=("summary", "rule", "link", "notified_open"))
    items = [
        ActionItem(
            kind="incident",
            object_id=str(i.pk),
            what=i.summary,
            # a message that could not be sent yet is worth knowing: the alert channel may be broken
            reason=rule_title(i.rule) + ("" if i.notified_open else " · no message has gone out yet: check the alert channel"),
            since=i.q_since,
            url=i.link,
            url_label="Fix it",
            actions=("assign",),
        )
        for i in rows
    ]
    return one_group("incident", "Open incidents", count, items)


def drift_items(ctx: QueueContext) -> list[ActionGroup]:
    """Differences between Stripe and our mirrors found by reconciliation."""
    qs = open_items(
        Drift.objects.open(), kind="stripe_drift", since=F("found_at"), changed=F("found_at"), ctx=ctx
    )
    count, rows = page_of(qs, ctx, shown=("customer_id", "object_type", "stripe_id", "kind", "field", "ours", "stripes"))
    items = [
        ActionItem(
            kind="stripe_drift",
            object_id=str(d.pk),
            what=f"{d.object_type} {d.stripe_id}: {d.get_kind_display().lower()}" + (f" ({d.field})" if d.field else ""),
            reason=f"Switchboard has {d.ours or 'nothing'}, Stripe has {d.stripes or 'nothing'}; "
            "repair with manage.py reconcile_stripe --apply",
            since=d.q_since,
            customer_id=d.customer_id,
            actions=("assign", "resolve"),
        )
        for d in rows
    ]
    return one_group("stripe_drift", "Differences with Stripe", count, items)


def register() -> None:
    may_see_health = lambda user: user.has_perm("monitoring.view_health")  # noqa: E731
    registry.register(registry.Kind(
        "incident", incident_items, may_see_health, model=Incident, customer_path=None,
        watches="open incidents",
    ))
    registry.register(registry.Kind(
        "stripe_drift", drift_items, may_see_health, model=Drift,
        watches="differences between Stripe and Switchboard",
    ))
