"""Billing's queue kind for subscription changes: those above the approval limit wait for an owner."""

from django.db.models import F

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, one_group, open_items, page_of
from billing.models import SubscriptionChange
from billing.models import SubscriptionChangeStatus as Status


def subscription_approval_items(ctx: QueueContext) -> list[ActionGroup]:
    """Changes waiting for an owner other than the one who asked."""
    qs = open_items(
        SubscriptionChange.objects.filter(status=Status.AWAITING_APPROVAL).exclude(requested_by=ctx.user),
        kind="subscription_approval",
        since=F("created_at"),
        ctx=ctx,
    ).select_related("requested_by", "subscription")
    count, rows = page_of(qs, ctx, shown=("customer_id", "kind", "note", "requested_by__email",
                                          "subscription__stripe_id"))
    items = [
        ActionItem(
            kind="subscription_approval",
            object_id=str(c.pk),
            what=f"{c.get_kind_display()} of {c.subscription.stripe_id} waits for your approval",
            reason=f"Asked by {c.requested_by.email if c.requested_by else 'someone'}" + (f": {c.note}" if c.note else ""),
            since=c.q_since,
            customer_id=c.customer_id,
            url=ctx.url("subscription_change_detail", c.pk),
            url_label="Decide",
            actions=("assign",),
        )
        for c in rows
    ]
    return one_group("subscription_approval", "Subscription changes waiting for approval", count, items)


def register() -> None:
    registry.register(registry.Kind(
        "subscription_approval", subscription_approval_items, lambda user: user.has_perm("billing.approve_refund"),
        model=SubscriptionChange, watches="subscription changes waiting for your approval",
    ))
