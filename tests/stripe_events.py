"""The tests' side of Stripe events: the test install's webhook secrets and a signed POST through the
test client. The events themselves come from the product's builders (``demo.stripe_events``)."""

from demo import stripe_events as _builders
from demo.stripe_events import (  # noqa: F401 - the builders the tests call through this module
    body,
    charge,
    checkout_session,
    customer,
    dispute,
    event,
    invoice,
    new_id,
    payment_intent,
    price,
    refund,
    subscription,
)

SECRET = "whsec_test_switchboard_primary"
OLD_SECRET = "whsec_test_switchboard_previous"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    return _builders.sign(body, secret, timestamp)


def post(client, payload: dict | bytes, *, secret: str = SECRET, timestamp: int | None = None, header: str | None = None):
    raw = payload if isinstance(payload, bytes) else body(payload)
    sig = header if header is not None else sign(raw, secret, timestamp)
    extra = {"HTTP_STRIPE_SIGNATURE": sig} if sig else {}
    return client.post("/webhooks/stripe/", data=raw, content_type="application/json", **extra)
