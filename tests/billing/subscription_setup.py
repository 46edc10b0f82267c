"""A customer with a live subscription, mirrored through real webhooks and known to the Stripe fake."""

import time

import pytest

from billing.models import Subscription
from tests import stripe_events as se
from tests.billing.subscription_fake import enterprise_price

DAY = 86_400


@pytest.fixture
def live_sub(deliver, subs_fake) -> Subscription:
    """Pro at 49.00/month, ten days into a thirty-day period, paid by its invoice; Enterprise seen elsewhere."""
    now = int(time.time())
    cid, sid = se.new_id("cus"), se.new_id("sub")
    deliver(se.event("customer.created", se.customer(cid, email="pat@example.com", name="Pat Payer")))
    obj = se.subscription(sid, cid, current_period_start=now - 10 * DAY, current_period_end=now + 20 * DAY,
                          created=now - 40 * DAY)
    deliver(se.event("customer.subscription.created", obj, created=now - 40 * DAY))
    subs_fake.add(obj)
    other_c, other_s = se.new_id("cus"), se.new_id("sub")
    deliver(se.event("customer.created", se.customer(other_c, email="big@example.com")))
    deliver(se.event("customer.subscription.created",
                     se.subscription(other_s, other_c, amount=9900, nickname="Enterprise"), created=now - 40 * DAY))
    price = enterprise_price()
    subs_fake.prices[price["id"]] = price
    return Subscription.objects.select_related("customer").get(stripe_id=sid)


@pytest.fixture
def paid_sub(deliver, live_sub) -> Subscription:
    """The same subscription with its current period paid (49.00) by charge and invoice."""
    iid, chid = se.new_id("in"), se.new_id("ch")
    cid = live_sub.stripe_customer_id
    deliver(se.event("invoice.paid", se.invoice(iid, cid, live_sub.stripe_id, charge=chid)))
    deliver(se.event("charge.succeeded", se.charge(chid, cid, amount=4900, invoice=iid)))
    return live_sub


def stripe_echo(deliver, subs_fake, sub: Subscription, event_type: str = "customer.subscription.updated"):
    """Stripe's webhook after a change: the fake's subscription as it now stands."""
    return deliver(se.event(event_type, subs_fake.subscriptions[sub.stripe_id], created=int(time.time()) + 1))
