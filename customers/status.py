"""The one function that says what state a customer is in, derived from the Stripe mirrors."""

from dataclasses import asdict, dataclass
from functools import cache

from auditlog.context import disable_auditlog
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.db.models import Case, Exists, F, OuterRef, Subquery, Value, When

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


@dataclass(frozen=True)
class SubscriptionFacts:
    """What status derivation reads of one subscription mirror."""

    stripe_id: str
    status: str
    deleted: bool = False
    amount: int = 0
    interval: str = "month"
    interval_count: int = 1
    plan_name: str = ""
    currency: str = ""


def monthly_amount(amount: int, interval: str, interval_count: int) -> int:
    months = _MONTHS_PER_INTERVAL.get(interval, 1) * max(interval_count, 1)
    return round(amount / months)


# --- the rules, on plain values (tests call them without a database) --------------------------


def current_subscription(subscriptions: list[SubscriptionFacts]) -> SubscriptionFacts | None:
    """Of a customer's subscriptions (newest first) the one that decides: the newest live one, else
    the newest."""
    live = [s for s in subscriptions if s.status in _LIVE and not s.deleted]
    return live[0] if live else (subscriptions[0] if subscriptions else None)


def subscription_status(sub: SubscriptionFacts) -> str:
    """The customer status a subscription alone gives (before its invoices are read)."""
    if sub.deleted:
        return CustomerStatus.CANCELED
    return _SUBSCRIPTION_STATUS.get(sub.status, CustomerStatus.ACTIVE)


def state_with_subscription(sub: SubscriptionFacts, *, failed_invoice: str | None, currency: str
                            ) -> DerivedState:
    """``failed_invoice``: the subscription's newest invoice when its latest payment failed; only an
    active subscription is turned past due by it."""
    status = subscription_status(sub)
    reason = f"Subscription {sub.stripe_id} is {sub.status or 'unknown'}"
    if status == CustomerStatus.ACTIVE and failed_invoice:
        status, reason = CustomerStatus.PAST_DUE, f"Invoice {failed_invoice} payment failed"
    paying = status in (CustomerStatus.ACTIVE, CustomerStatus.PAST_DUE)
    mrr = monthly_amount(sub.amount, sub.interval, sub.interval_count) if paying else 0
    plan = sub.plan_name if status != CustomerStatus.CANCELED else ""
    return DerivedState(status, reason, plan, mrr, sub.currency or currency)


def state_without_subscription(*, failed_invoice: str | None, settled_payment: bool, currency: str
                               ) -> DerivedState:
    """No subscription on record: a failed latest invoice, else any settled payment, decides."""
    if failed_invoice:
        return DerivedState(CustomerStatus.PAST_DUE, f"Invoice {failed_invoice} payment failed", "", 0,
                            currency)
    if settled_payment:
        return DerivedState(CustomerStatus.ACTIVE, "Paid, no subscription on record", "", 0, currency)
    return DerivedState(CustomerStatus.TRIAL, "No subscription or payment yet", "", 0, currency)


# --- reading the facts from the mirrors ---------------------------------------------------------


# Every event derives its customer's state: the reads below take only the columns the rules use
# (plain tuples, no model instances), and the subquery is built once.
_FACT_FIELDS = list(SubscriptionFacts.__dataclass_fields__)
# Whether Stripe deleted the customer comes with the subscriptions (one read); only a customer
# without any asks on its own.
_STRIPE_DELETED = Exists(Customer.objects.filter(pk=OuterRef("customer_id"), stripecustomers__deleted=True))


@cache
def _failed_invoice() -> Subquery:
    """Per subscription, the customer's newest invoice of it when that invoice's latest payment failed
    (its id; "" when it did not fail, None without an invoice): it comes with the subscriptions too.
    Built on first use, through the customer's relation: the mirrors are billing's models."""
    invoices = Customer._meta.get_field("invoices").related_model.objects
    return Subquery(
        invoices.filter(customer_id=OuterRef("customer_id"), subscription_stripe_id=OuterRef("stripe_id"))
        .order_by("-last_event_created", "-id")
        .annotate(failed=Case(When(payment_failed=True, then=F("stripe_id")), default=Value("")))
        .values("failed")[:1]
    )


def customer_state_derive(customer: Customer) -> DerivedState:
    if customer.review_reason:
        return DerivedState(CustomerStatus.NEEDS_REVIEW, customer.review_reason, customer.plan, customer.mrr, customer.currency)
    rows = list(customer.subscriptions.annotate(stripe_deleted=_STRIPE_DELETED, failed_invoice=_failed_invoice())
                .order_by("-stripe_created", "-id").values_list("stripe_deleted", "failed_invoice", *_FACT_FIELDS))
    if rows[0][0] if rows else customer.stripecustomers.filter(deleted=True).exists():
        return DerivedState(CustomerStatus.CANCELED, "Customer deleted in Stripe", "", 0, customer.currency)

    current = current_subscription([SubscriptionFacts(*row[2:]) for row in rows])
    if current is None:
        return _without_subscription(customer)
    failed = None
    if subscription_status(current) == CustomerStatus.ACTIVE:
        failed = next(row[1] for row in rows if row[2] == current.stripe_id) or None
    return state_with_subscription(current, failed_invoice=failed, currency=customer.currency)


def _without_subscription(customer: Customer) -> DerivedState:
    latest = customer.invoices.order_by("-last_event_created", "-id").first()
    failed = latest.stripe_id if latest is not None and latest.payment_failed else None
    settled = not failed and (
        (latest is not None and latest.status == "paid")
        or customer.charges.filter(paid=True, amount__gt=F("amount_refunded")).exists()
        or customer.paymentintents.filter(status="succeeded").exists()
    )
    return state_without_subscription(failed_invoice=failed, settled_payment=settled,
                                      currency=customer.currency)


def snapshot(customer: Customer) -> dict:
    return {"status": customer.status, "plan": customer.plan, "mrr": customer.mrr, "currency": customer.currency}


def customer_state_refresh(
    *, customer: Customer, source_event=None, also_save: tuple[str, ...] = (), stored: Customer | None = None
) -> tuple[dict, dict]:
    """Derive the state again, save what changed and record a status change with its cause.

    ``also_save``: fields the caller changed on ``customer``, written in the same UPDATE.
    ``stored``: a copy of ``customer`` taken when this transaction read (and locked) its row; the
    save's audit entry is diffed against it (``_save``).
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
        _save(customer, [*fields, "updated_at"], stored)
    if after["status"] != before["status"]:
        CustomerStatusChange.objects.create(
            customer=customer,
            from_status=before["status"],
            to_status=derived.status,
            reason=derived.reason[:300],
            source_event=source_event,
        )
    return before, after


def _save(customer: Customer, fields: list[str], stored: Customer | None) -> None:
    """``customer.save(update_fields=fields)`` with the audit entry django-auditlog writes for it: the
    library reads the row again and diffs it before the save stamps ``updated_at``. With ``stored``
    (the row as this transaction read it) the entry is diffed against that copy, at the same moment,
    and written by the library's own call: one read fewer on every event. A copy is only the row
    while the instance has not been saved since (every save moves ``updated_at``); otherwise the
    library reads the row as usual."""
    if stored is None or stored.pk != customer.pk or stored.updated_at != customer.updated_at:
        customer.save(update_fields=fields)
        return
    changes = model_instance_diff(stored, customer, fields_to_check=fields,
                                  use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
    with disable_auditlog():
        customer.save(update_fields=fields)
    if changes:
        LogEntry.objects.log_create(customer, action=LogEntry.Action.UPDATE, changes=changes)
