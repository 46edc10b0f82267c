"""Events as the door stores them, for tests that apply one without delivering it."""

import uuid
from datetime import UTC, datetime

from billing.models import StripeEvent
from customers.models import Customer
from tests import stripe_events as se


def subscription_created(customer: Customer) -> StripeEvent:
    """A customer.subscription.created for ``customer`` (linked to ``cus_<public id>`` in Stripe), with
    the Stripe customer id, as the door stores it."""
    stripe_customer_id = f"cus_{customer.public_id}"
    evt = se.event("customer.subscription.created", se.subscription(se.new_id("sub"), stripe_customer_id))
    return StripeEvent.objects.create(
        stripe_id=evt["id"], type=evt["type"], api_version=evt["api_version"], livemode=False,
        created=datetime.fromtimestamp(evt["created"], tz=UTC), payload=evt, stripe_customer_id=stripe_customer_id,
        correlation_id=uuid.uuid4().hex,
    )
