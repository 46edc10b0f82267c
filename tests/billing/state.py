"""A comparable picture of everything billing derived: mirrors and customers, without row ids or times of writing."""

from billing import models as b
from customers.models import Customer

MIRROR_FIELDS = {
    b.StripeCustomer: ["email", "name", "balance", "delinquent", "deleted"],
    b.Subscription: ["status", "plan_name", "amount", "currency", "interval", "current_period_end", "deleted"],
    b.Invoice: ["status", "amount_due", "amount_paid", "payment_failed", "subscription_stripe_id"],
    b.PaymentIntent: ["status", "amount", "latest_charge_id"],
    b.Charge: ["status", "amount", "amount_refunded", "paid", "refunded"],
    b.Refund: ["status", "amount", "charge_stripe_id"],
    b.Dispute: ["status", "amount", "charge_stripe_id"],
}


def final_state() -> dict:
    state: dict = {}
    for model, fields in MIRROR_FIELDS.items():
        rows = model.objects.values("stripe_id", "stripe_customer_id", "last_event_created", *fields)
        state[model.__name__] = sorted(tuple(sorted(r.items())) for r in rows)
    customers = Customer.objects.filter(links__system="stripe").values(
        "email", "status", "plan", "mrr", "review_reason", "links__external_id"
    )
    state["customers"] = sorted(tuple(sorted((k, str(v)) for k, v in c.items())) for c in customers)
    return state


def reset_billing() -> None:
    """Empty everything billing derived, so the same events can be delivered again from scratch."""
    from billing.models import StripeEvent
    from support.models import Ticket
    from sync.models import SyncJob

    Ticket.objects.all().delete()  # tickets are keyed by event: a second run must not find the first run's
    SyncJob.objects.all().delete()
    StripeEvent.objects.all().delete()
    for model in MIRROR_FIELDS:
        model.objects.all().delete()
    Customer.objects.all().delete()
