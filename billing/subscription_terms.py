"""What each subscription action means: the parameters Stripe gets, how its webhook shows the change was
made, and the sentences the confirmation page and the audit trail say about it. No writes, no calls."""

from datetime import datetime

from django.utils import timezone

from billing.models import Charge, Invoice, Subscription, SubscriptionChange
from billing.models import SubscriptionChangeKind as Kind
from billing.services.refunds import refundable_amount
from core.money import format_money

# A canceled, incomplete or ended subscription takes none of the actions.
LIVE_STATUSES = ("active", "trialing", "past_due", "unpaid")

# Stripe's pause_collection behaviours, as the form offers them.
PAUSE_BEHAVIORS = {
    "keep_as_draft": "Keep invoices as drafts (collect them later by hand)",
    "void": "Void invoices (the paused time is free)",
    "mark_uncollectible": "Mark invoices uncollectible",
}


def is_paused(sub: Subscription) -> bool:
    return bool((sub.data or {}).get("pause_collection"))


def single_item_id(sub: Subscription) -> str:
    """The subscription item a plan change moves; empty when the subscription has several (not offered)."""
    items = ((sub.data or {}).get("items") or {}).get("data") or []
    return str(items[0].get("id") or "") if len(items) == 1 else ""


def _ts(value: datetime | None) -> int:
    return int(value.timestamp()) if value else 0


def stripe_params(change: SubscriptionChange) -> dict:
    """The body of the one ``POST /v1/subscriptions/{id}`` a change makes (cancel_now is a DELETE, no body)."""
    if change.kind == Kind.CANCEL_AT_PERIOD_END:
        return {"cancel_at_period_end": True}
    if change.kind == Kind.UNDO_CANCEL:
        return {"cancel_at_period_end": False}
    if change.kind == Kind.CHANGE_PLAN:
        return {
            "items": [{"id": single_item_id(change.subscription), "price": change.price_id}],
            # the proration shown on the confirmation page is charged (or credited) now, at the preview's moment
            "proration_behavior": "always_invoice",
            "proration_date": _ts(change.proration_date),
        }
    if change.kind == Kind.PAUSE_COLLECTION:
        return {"pause_collection": {"behavior": change.pause_behavior, "resumes_at": _ts(change.resumes_at)}}
    if change.kind == Kind.RESUME_COLLECTION:
        return {"pause_collection": ""}  # Stripe's way of clearing a field
    if change.kind == Kind.EXTEND_TRIAL:
        return {"trial_end": _ts(change.trial_end), "proration_behavior": "none"}
    raise ValueError(f"No Stripe parameters for {change.kind}")


def _prices(obj: dict) -> set[str]:
    items = ((obj.get("items") or {}).get("data")) or []
    found = {str((i.get("price") or i.get("plan") or {}).get("id") or "") for i in items if isinstance(i, dict)}
    plan = obj.get("plan")
    if isinstance(plan, dict):
        found.add(str(plan.get("id") or ""))
    return found


def reflected(change: SubscriptionChange, obj: dict, event_type: str) -> bool:
    """Whether Stripe's subscription object (from its webhook) shows ``change`` made."""
    if change.kind == Kind.CANCEL_NOW:
        return event_type == "customer.subscription.deleted" or obj.get("status") == "canceled"
    if change.kind == Kind.CANCEL_AT_PERIOD_END:
        return obj.get("cancel_at_period_end") is True
    if change.kind == Kind.UNDO_CANCEL:
        return obj.get("cancel_at_period_end") is False and obj.get("status") != "canceled"
    if change.kind == Kind.CHANGE_PLAN:
        return change.price_id in _prices(obj)
    if change.kind == Kind.PAUSE_COLLECTION:
        return bool(obj.get("pause_collection"))
    if change.kind == Kind.RESUME_COLLECTION:
        return not obj.get("pause_collection")
    if change.kind == Kind.EXTEND_TRIAL:
        return obj.get("trial_end") == _ts(change.trial_end)
    return False


def prorated_refund(sub: Subscription, *, now: datetime | None = None) -> tuple[Charge | None, int]:
    """The latest payment of this subscription and the part of it for the unused rest of the period,
    no more than is still refundable on it."""
    now = now or timezone.now()
    start, end = sub.current_period_start, sub.current_period_end
    if not start or not end or end <= now or end <= start:
        return None, 0
    invoices = Invoice.objects.filter(subscription_stripe_id=sub.stripe_id).values("stripe_id")
    charge = (
        Charge.objects.filter(invoice_stripe_id__in=invoices, paid=True, status="succeeded", refunded=False)
        .order_by("-stripe_created", "-id").first()
    )
    if charge is None:
        return None, 0
    unused = (end - max(now, start)).total_seconds() / (end - start).total_seconds()
    return charge, min(int(charge.amount * unused), refundable_amount(charge=charge))


def change_summary(change: SubscriptionChange) -> str:
    """One line for the audit trail and the timeline."""
    sub, what = change.subscription, change.get_kind_display()
    if change.kind == Kind.CHANGE_PLAN:
        what = f"Plan change to {change.price_label or change.price_id}"
    elif change.kind == Kind.PAUSE_COLLECTION and change.resumes_at:
        what = f"Pause collection until {change.resumes_at:%d %b %Y}"
    elif change.kind == Kind.EXTEND_TRIAL and change.trial_end:
        what = f"Trial extended to {change.trial_end:%d %b %Y}"
    elif change.kind == Kind.CANCEL_NOW and change.refund_amount:
        what = f"Cancel now with a refund of {format_money(change.refund_amount, change.currency)}"
    return f"{what} on {sub.stripe_id}"


def _day(value: datetime | None) -> str:
    return f"{timezone.localtime(value):%d %b %Y}" if value else "the end of the period"


def consequences(sub: Subscription, kind: str, *, refund: tuple[Charge | None, int] = (None, 0),
                 preview=None, price_label: str = "", resumes_at=None, pause_behavior: str = "",
                 trial_end=None) -> tuple[str, str]:
    """(what will change, the money consequence), in sentences, for the confirmation page."""
    charge_line = f"{format_money(sub.amount, sub.currency)}/{sub.interval or 'period'}"
    if kind == Kind.CANCEL_AT_PERIOD_END:
        return (f"The subscription stays active until {_day(sub.current_period_end)}, then ends.",
                f"No more charges after {_day(sub.current_period_end)}. Nothing is refunded.")
    if kind == Kind.CANCEL_NOW:
        charge, amount = refund
        money = (f"{format_money(amount, sub.currency)} of payment {charge.stripe_id} is refunded for the unused "
                 "rest of the period (through the refund flow and its approval rule)." if amount
                 else "No refund: the customer keeps nothing of the unused period.")
        return "The subscription ends now; access ends with it.", money
    if kind == Kind.UNDO_CANCEL:
        return ("The pending cancellation is removed; the subscription renews as before.",
                f"Billing continues: {charge_line}, next on {_day(sub.current_period_end)}.")
    if kind == Kind.CHANGE_PLAN:
        what = f"The plan changes from {sub.plan_name or sub.price_id} to {price_label}, from now."
        if preview is None:
            return what, "Stripe's preview is not available."
        now = format_money(abs(preview.due_now), sub.currency)
        due = (f"Due now: {now} (the difference for the rest of this period)." if preview.due_now > 0 else
               f"Credited now: {now} to the customer's balance." if preview.due_now < 0 else "Due now: nothing.")
        return what, f"{due} Next invoice: {format_money(preview.next_invoice, sub.currency)}."
    if kind == Kind.PAUSE_COLLECTION:
        label = PAUSE_BEHAVIORS.get(pause_behavior, pause_behavior).split(" (")[0].lower()
        return (f"Payment collection pauses until {_day(resumes_at)}; the subscription stays active.",
                f"Invoices made during the pause: {label}. Billing resumes on {_day(resumes_at)}.")
    if kind == Kind.RESUME_COLLECTION:
        return ("Payment collection resumes now.", f"The next invoice is collected as usual: {charge_line}.")
    if kind == Kind.EXTEND_TRIAL:
        return (f"The trial ends on {_day(trial_end)} instead of {_day(sub.trial_end)}.",
                f"The first charge ({charge_line}) moves to {_day(trial_end)}. Nothing is prorated.")
    return "", ""
