"""The one function that says what state a customer is in, derived from the Stripe mirrors."""

from dataclasses import asdict, dataclass

from django.db.models import F

from customers.models import Customer, CustomerStatus, CustomerStatusChange

# Subscription statuses that mean the customer currently has (or is fighting to keep) a plan.
_LIVE = {"active", "trialing", "past_due", "unpaid", "incomplete"}
_SUBSCRIPTION_STATUS = {
    "trialing": CustomerStatus.TRIAL,
    "active": CustomerStatus.ACTIVE,
    "past_due": CustomerStatus.PAST_DUE,
    "unpaid": CustomerStatus.PAST_DUE,
    "incomplete": CustomerStatus.PAST_DUE,
    "incomplete_expired": CustomerStatus.CANCELED,
    "canceled": CustomerStatus.CANCELED,
    "paused": CustomerStatus.CANCELED,
}
_MONTHS_PER_INTERVAL = {"day": 12 / 365, "week": 12 / 52, "month": 1, "year": 12}


@dataclass(frozen=True)
class DerivedState:
    status: str
    reason: str
    plan: str
    mrr: int
    currency: str


def monthly_amount(amount: int, interval: str, interval_count: int) -> int:
    months = _MONTHS_PER_INTERVAL.get(interval, 1) * max(interval_count, 1)
    return round(amount / months)


def customer_state_derive(customer: Customer) -> DerivedState:
    if customer.review_reason:
        return DerivedState(CustomerStatus.NEEDS_REVIEW, customer.review_reason, customer.plan, customer.mrr, customer.currency)
    if customer.stripecustomers.filter(deleted=True).exists():
        return DerivedState(CustomerStatus.CANCELED, "Customer deleted in Stripe", "", 0, customer.currency)

    subscriptions = list(customer.subscriptions.order_by("-stripe_created", "-id"))
    live = [s for s in subscriptions if s.status in _LIVE and not s.deleted]
    current = live[0] if live else (subscriptions[0] if subscriptions else None)
    if current is None:
        return _without_subscription(customer)

    status = CustomerStatus.CANCELED if current.deleted else _SUBSCRIPTION_STATUS.get(current.status, CustomerStatus.ACTIVE)
    reason = f"Subscription {current.stripe_id} is {current.status or 'unknown'}"
    if status == CustomerStatus.ACTIVE:
        failed = customer.invoices.filter(subscription_stripe_id=current.stripe_id).order_by(
            "-last_event_created", "-id"
        ).first()
        if failed is not None and failed.payment_failed:
            status, reason = CustomerStatus.PAST_DUE, f"Invoice {failed.stripe_id} payment failed"
    paying = status in (CustomerStatus.ACTIVE, CustomerStatus.PAST_DUE)
    mrr = monthly_amount(current.amount, current.interval, current.interval_count) if paying else 0
    plan = current.plan_name if status != CustomerStatus.CANCELED else ""
    return DerivedState(status, reason, plan, mrr, current.currency or customer.currency)


def _without_subscription(customer: Customer) -> DerivedState:
    """No subscription on record: the latest invoice, or any settled payment, decides."""
    latest = customer.invoices.order_by("-last_event_created", "-id").first()
    if latest is not None and latest.payment_failed:
        return DerivedState(CustomerStatus.PAST_DUE, f"Invoice {latest.stripe_id} payment failed", "", 0, customer.currency)
    paid = (
        (latest is not None and latest.status == "paid")
        or customer.charges.filter(paid=True, amount__gt=F("amount_refunded")).exists()
        or customer.paymentintents.filter(status="succeeded").exists()
    )
    if paid:
        return DerivedState(CustomerStatus.ACTIVE, "Paid, no subscription on record", "", 0, customer.currency)
    return DerivedState(CustomerStatus.TRIAL, "No subscription or payment yet", "", 0, customer.currency)


def snapshot(customer: Customer) -> dict:
    return {"status": customer.status, "plan": customer.plan, "mrr": customer.mrr, "currency": customer.currency}


def customer_state_refresh(
    *, customer: Customer, source_event=None, also_save: tuple[str, ...] = ()
) -> tuple[dict, dict]:
    """Derive the state again, save what changed and record a status change with its cause.

    ``also_save``: fields the caller changed on ``customer``, written in the same UPDATE.
    """
    before = snapshot(customer)
    derived = customer_state_derive(customer)
    after = {k: v for k, v in asdict(derived).items() if k != "reason"}
    fields = list(also_save)
    if after != before or customer.status_reason != derived.reason:
        customer.status = derived.status
        customer.status_reason = derived.reason[:300]
        customer.plan = derived.plan[:100]
        customer.mrr = derived.mrr
        customer.currency = derived.currency
        fields += ["status", "status_reason", "plan", "mrr", "currency"]
    if fields:
        customer.save(update_fields=[*fields, "updated_at"])
    if after["status"] != before["status"]:
        CustomerStatusChange.objects.create(
            customer=customer,
            from_status=before["status"],
            to_status=derived.status,
            reason=derived.reason[:300],
            source_event=source_event,
        )
    return before, after
