"""The 360's subscription card asks billing, through the template, which actions each subscription offers
and where its latest change stands (customers' code knows nothing of billing)."""

from django import template

from billing import stripe_client
from billing.models import Subscription
from billing.models import SubscriptionChangeKind as Kind
from billing.subscription_selectors import latest_changes
from billing.subscription_terms import LIVE_STATUSES, is_paused, single_item_id

register = template.Library()


def actions_for(sub: Subscription) -> list[tuple[str, str]]:
    """The actions that make sense for the subscription as last mirrored, as (kind, button label)."""
    if sub.deleted or sub.status not in LIVE_STATUSES:
        return []
    actions = [(Kind.UNDO_CANCEL, "Undo cancellation") if sub.cancel_at_period_end
               else (Kind.CANCEL_AT_PERIOD_END, "Cancel at period end")]
    actions.append((Kind.CANCEL_NOW, "Cancel now…"))
    if single_item_id(sub):
        actions.append((Kind.CHANGE_PLAN, "Change plan…"))
    actions.append((Kind.RESUME_COLLECTION, "Resume collection") if is_paused(sub)
                   else (Kind.PAUSE_COLLECTION, "Pause collection…"))
    if sub.status == "trialing" and sub.trial_end:
        actions.append((Kind.EXTEND_TRIAL, "Extend trial…"))
    return actions


@register.simple_tag(takes_context=True)
def subscription_rows(context, subscriptions) -> list[dict]:
    """Each subscription with its latest change and, for who may act and while no change is open, its actions."""
    subscriptions = list(subscriptions or [])
    user = context.get("user")
    may_act = bool(user and user.has_perm("billing.manage_subscription"))
    latest = latest_changes(subscriptions=subscriptions) if subscriptions else {}
    rows = []
    for sub in subscriptions:
        change = latest.get(sub.pk)
        busy = change is not None and change.is_open
        rows.append({"sub": sub, "change": change, "paused": is_paused(sub),
                     "actions": actions_for(sub) if may_act and not busy else []})
    return rows


@register.simple_tag
def stripe_is_connected() -> bool:
    return stripe_client.stripe_connected()
