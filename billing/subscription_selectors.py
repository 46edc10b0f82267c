"""Reads for the subscription actions: the prices a plan may change to, and each subscription's latest change."""

from django.db.models import QuerySet

from billing.models import Subscription, SubscriptionChange
from core.money import format_money
from customers.visibility import visible_through_customer


def prices_seen(*, subscription: Subscription) -> list[tuple[str, str]]:
    """The prices Switchboard has seen on any subscription, in this one's currency, as (id, label): the
    latest mirror of each price says its name and amount (one query, newest first, a few hundred rows)."""
    rows = (
        Subscription.objects.filter(currency=subscription.currency).exclude(price_id="")
        .order_by("-updated_at", "-id").values_list("price_id", "plan_name", "amount", "quantity", "interval")[:500]
    )
    seen: dict[str, str] = {}
    for price_id, name, amount, quantity, interval in rows:
        if price_id in seen:
            continue
        unit = amount // max(quantity, 1)
        seen[price_id] = f"{name or price_id} · {format_money(unit, subscription.currency)}/{interval or 'period'}"
    return sorted(seen.items(), key=lambda item: item[1].lower())


def latest_changes(*, subscriptions: list[Subscription]) -> dict[int, SubscriptionChange]:
    """Each subscription's most recent change request (one query however many subscriptions)."""
    latest: dict[int, SubscriptionChange] = {}
    changes = SubscriptionChange.objects.filter(subscription__in=[s.pk for s in subscriptions]).order_by(
        "-created_at", "-id"
    )[:100]
    for change in changes:
        latest.setdefault(change.subscription_id, change)
    return latest


def subscription_changes_visible_to(*, user) -> QuerySet[SubscriptionChange]:
    return visible_through_customer(SubscriptionChange.objects.all(), user=user)
