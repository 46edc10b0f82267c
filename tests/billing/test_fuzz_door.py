"""Whatever arrives at the door: never a 500, and never a stored row when the answer is a refusal."""

import json

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from billing.models import StripeEvent
from tests import stripe_events as se

pytestmark = pytest.mark.django_db

FUZZ = hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
# What the door lets through to the processor: finite numbers, no NUL, no lone surrogates.
safe_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=10), children, max_size=4),
    max_leaves=20,
)
event_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=30), st.integers(), st.none()),
        "type": st.one_of(st.sampled_from(["customer.created", "invoice.paid", "charge.refunded", "x"]), st.text(max_size=10)),
        "created": st.one_of(st.integers(min_value=-10, max_value=2**40), st.text(max_size=5), st.none()),
        "livemode": json_values,
        "data": st.one_of(json_values, st.fixed_dictionaries({"object": json_values})),
    },
)


@FUZZ
@given(body=st.binary(max_size=2000), header=st.text(max_size=200))
def test_random_bytes_and_headers_never_crash_and_store_nothing(client, body, header):
    before = StripeEvent.objects.count()
    response = client.post("/webhooks/stripe/", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code in (400, 413, 429)
    assert StripeEvent.objects.count() == before


@FUZZ
@given(payload=event_like)
def test_validly_signed_odd_events_never_crash_and_refusals_store_nothing(client, payload):
    before = StripeEvent.objects.count()
    response = se.post(client, json.dumps(payload).encode())
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert StripeEvent.objects.count() == before
    else:
        assert StripeEvent.objects.filter(stripe_id=payload["id"]).count() == 1


@FUZZ
@given(obj=st.dictionaries(st.sampled_from(
    ["id", "object", "customer", "amount", "amount_refunded", "currency", "status", "items", "plan", "refunds",
     "charge", "parent", "email", "created", "latest_charge", "charges", "subscription"]), safe_values, max_size=10),
    event_type=st.sampled_from(["customer.created", "customer.subscription.updated", "invoice.paid",
                                "charge.refunded", "charge.dispute.created", "payment_intent.succeeded",
                                "checkout.session.completed", "charge.refund.updated"]))
def test_processing_odd_objects_never_raises_it_records_the_failure(obj, event_type):
    from billing.models import EventStatus
    from billing.parsing import event_envelope
    from billing.services import event_process

    env = event_envelope(se.event(event_type, obj))
    stored = StripeEvent.objects.create(stripe_id=env.id, type=env.type, created=env.created, payload=env.raw)
    status = event_process(event_id=stored.pk)
    stored.refresh_from_db()
    assert status == stored.status
    assert stored.status in (EventStatus.PROCESSED, EventStatus.FAILED)
    if stored.status == EventStatus.FAILED:
        assert stored.error_class and stored.last_error
