"""Local copies of Stripe objects, written so that Stripe's order of events does not matter.

Each mirror remembers the ``created`` time of the newest event applied to it:
an older event is skipped, an update that arrives before its create still
lands (the create is then the older one), and a deletion is final.
"""

from django.db import IntegrityError, transaction

from billing import parsing as p
from billing.ordering import event_is_stale, event_place, event_rank
from billing.models import (
    Charge,
    Dispute,
    Invoice,
    PaymentIntent,
    Refund,
    StripeCustomer,
    StripeEvent,
    StripeMirror,
    Subscription,
)
from customers.identity import Identity
from customers.models import Customer
from customers.status import customer_state_refresh


def event_order_key(event: StripeEvent) -> tuple[float, int, str]:
    """Where an event stands in Stripe's order, as a value that survives JSON (seconds, rank, id)."""
    return (event.created.timestamp(), event_rank(event.type), event.stripe_id)


def _is_stale(row: StripeMirror, event: StripeEvent, deleting: bool) -> bool:
    applied = None
    if row.last_event_created is not None:
        applied = (row.last_event_created, row.last_event_rank, row.last_event_id)
    place = event_place(created=event.created, event_type=event.type, event_id=event.stripe_id)
    return event_is_stale(event=place, deleting=deleting, applied=applied, deleted=row.deleted)


def mirror_apply(
    model: type[StripeMirror],
    *,
    obj: dict,
    event: StripeEvent,
    customer,
    fields: dict,
    deleting: bool = False,
    stripe_customer_id: str = "",
) -> tuple[StripeMirror, bool]:
    """Write ``fields`` onto the mirror of ``obj`` unless a newer event already did. Returns (row, applied)."""
    stripe_id = p.object_id(obj.get("id"))
    if not stripe_id:
        raise p.EventShapeError(f"{model.__name__} without an id")
    row = model.objects.select_for_update().filter(stripe_id=stripe_id).first()
    if row is not None and _is_stale(row, event, deleting):
        return row, False
    values = {
        **fields,
        "stripe_customer_id": stripe_customer_id or p.customer_id(obj) or (row.stripe_customer_id if row else ""),
        "livemode": event.livemode,
        # Invoices before 2019-03-14 carry `date` where later ones carry `created`.
        "stripe_created": p.ts(obj.get("created") or obj.get("date")) or (row.stripe_created if row else None),
        "last_event_created": event.created,
        "last_event_id": event.stripe_id,
        "last_event_rank": event_rank(event.type),
        "deleted": deleting or (row.deleted if row else False),
        "data": obj,
    }
    if customer is not None:
        values["customer"] = customer
    if row is None:
        try:
            with transaction.atomic():
                return model.objects.create(stripe_id=stripe_id, **values), True
        except IntegrityError:
            # Another worker created it a moment ago: apply on top of theirs, with the same rules.
            row = model.objects.select_for_update().get(stripe_id=stripe_id)
            if _is_stale(row, event, deleting):
                return row, False
    previous_owner = row.customer_id
    for name, value in values.items():
        setattr(row, name, value)
    row.save()
    if previous_owner and previous_owner != row.customer_id:
        _rederive(previous_owner)
    return row, True


def _rederive(customer_pk: int) -> None:
    """An object moved to another customer: the one it left is derived again."""
    customer_state_refresh(customer=Customer.objects.select_for_update().get(pk=customer_pk))


def stated_identity(customer: Customer) -> Identity:
    """What Stripe's customer object says of email and name: per field, the newest mirror that says any.

    Usually one mirror; a customer merged with another holds theirs too.
    """
    rows = list(
        StripeCustomer.objects.filter(customer=customer)
        .order_by("-last_event_created", "-last_event_rank", "-last_event_id")
        .values_list("email", "name")
    )
    return Identity(email=next((e for e, _ in rows if e), ""), name=next((n for _, n in rows if n), ""))


def customer_fields(obj: dict) -> dict:
    balance = obj.get("balance", obj.get("account_balance"))  # renamed in 2019-10-17
    return {
        "email": p.customer_email(obj),
        "name": p.customer_name(obj),
        "currency": p.currency(obj),
        "balance": p.money(balance),
        "delinquent": bool(obj.get("delinquent")),
    }


def subscription_fields(obj: dict) -> dict:
    terms = p.subscription_terms(obj)
    return {
        "status": p.text(obj.get("status"), 30),
        "price_id": terms.price_id,
        "plan_name": terms.plan_name,
        "amount": terms.amount,
        "currency": p.currency(obj) or _plan_currency(obj),
        "interval": terms.interval,
        "interval_count": terms.interval_count,
        "quantity": terms.quantity,
        "current_period_start": terms.period_start,
        "current_period_end": terms.period_end,
        "trial_end": p.ts(obj.get("trial_end")),
        "cancel_at_period_end": bool(obj.get("cancel_at_period_end")),
        "canceled_at": p.ts(obj.get("canceled_at")),
        "ended_at": p.ts(obj.get("ended_at")),
    }


def _plan_currency(obj: dict) -> str:
    plan = obj.get("plan")
    return p.currency(plan) if isinstance(plan, dict) else ""


def invoice_fields(obj: dict, event_type: str) -> dict:
    status = p.text(obj.get("status"), 30)
    if not status:  # invoices before `status` existed (2015-2018)
        status = "paid" if obj.get("paid") else ("void" if obj.get("forgiven") else "open")
    transitions = obj.get("status_transitions") if isinstance(obj.get("status_transitions"), dict) else {}
    paid = status == "paid" or event_type in ("invoice.paid", "invoice.payment_succeeded")
    return {
        "subscription_stripe_id": p.invoice_subscription_id(obj),
        "status": "paid" if paid else status,
        "number": p.text(obj.get("number"), 100),
        "amount_due": p.money(obj.get("amount_due", obj.get("total"))),
        "amount_paid": p.money(obj.get("amount_paid")),
        "amount_remaining": p.money(obj.get("amount_remaining")),
        "currency": p.currency(obj),
        "attempt_count": obj.get("attempt_count") if isinstance(obj.get("attempt_count"), int) else 0,
        "billing_reason": p.text(obj.get("billing_reason"), 50),
        "payment_failed": event_type == "invoice.payment_failed" and not paid,
        "next_payment_attempt": p.ts(obj.get("next_payment_attempt")),
        "paid_at": p.ts(transitions.get("paid_at")) if paid else None,
    }


def payment_intent_fields(obj: dict) -> dict:
    error = obj.get("last_payment_error") if isinstance(obj.get("last_payment_error"), dict) else {}
    return {
        "status": p.text(obj.get("status"), 40),
        "amount": p.money(obj.get("amount")),
        "currency": p.currency(obj),
        "latest_charge_id": p.payment_intent_charge_id(obj),
        "invoice_stripe_id": p.object_id(obj.get("invoice")),
        "failure_code": p.text(error.get("code") or error.get("decline_code"), 100),
    }


def charge_fields(obj: dict) -> dict:
    status = p.text(obj.get("status"), 30) or ("succeeded" if obj.get("paid") else "failed")
    return {
        "payment_intent_id": p.object_id(obj.get("payment_intent")),
        "invoice_stripe_id": p.object_id(obj.get("invoice")),
        "amount": p.money(obj.get("amount")),
        "amount_refunded": p.money(obj.get("amount_refunded")),
        "currency": p.currency(obj),
        "status": status,
        "paid": bool(obj.get("paid")),
        "refunded": bool(obj.get("refunded")),
        "disputed": bool(obj.get("disputed")),
        "failure_code": p.text(obj.get("failure_code"), 100),
        "failure_message": p.text(obj.get("failure_message"), 300),
        "description": p.text(obj.get("description"), 300),
    }


def refund_fields(obj: dict) -> dict:
    return {
        "charge_stripe_id": p.object_id(obj.get("charge")),
        "amount": p.money(obj.get("amount")),
        "currency": p.currency(obj),
        "status": p.text(obj.get("status"), 30),
        "reason": p.text(obj.get("reason"), 50),
        "failure_reason": p.text(obj.get("failure_reason"), 100),
    }


def dispute_fields(obj: dict) -> dict:
    evidence = obj.get("evidence_details") if isinstance(obj.get("evidence_details"), dict) else {}
    return {
        "charge_stripe_id": p.object_id(obj.get("charge")),
        "amount": p.money(obj.get("amount")),
        "currency": p.currency(obj),
        "status": p.text(obj.get("status"), 40),
        "reason": p.text(obj.get("reason"), 60),
        "evidence_due_by": p.ts(evidence.get("due_by")),
    }


def embedded_refunds(charge: dict) -> list[dict]:
    """Charges before 2022-11-15 carry their refunds inline."""
    refunds = charge.get("refunds")
    if isinstance(refunds, dict):
        refunds = refunds.get("data")
    return [r for r in refunds if isinstance(r, dict) and r.get("id")] if isinstance(refunds, list) else []


def customer_of_charge(charge_id: str):
    """Refunds and disputes name a charge, not a customer: find the customer through our charge mirror."""
    if not charge_id:
        return "", None
    charge = Charge.objects.filter(stripe_id=charge_id).select_related("customer").first()
    if charge is None:
        return "", None
    return charge.stripe_customer_id, charge.customer


def adopt_orphans(charge: Charge) -> None:
    """A charge arriving after its refunds or disputes gives them their customer."""
    if charge.customer_id is None:
        return
    for model in (Refund, Dispute):
        model.objects.filter(charge_stripe_id=charge.stripe_id, customer__isnull=True).update(
            customer=charge.customer, stripe_customer_id=charge.stripe_customer_id
        )


MIRRORS = {
    "customer": (StripeCustomer, customer_fields),
    "subscription": (Subscription, subscription_fields),
    "payment_intent": (PaymentIntent, payment_intent_fields),
    "charge": (Charge, charge_fields),
    "refund": (Refund, refund_fields),
    "dispute": (Dispute, dispute_fields),
}
