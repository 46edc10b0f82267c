import json
import time

import pytest

from billing.models import EventStatus, StripeEvent
from tests import stripe_events as se
from tests.stripe_events import OLD_SECRET, SECRET

pytestmark = pytest.mark.django_db


def a_customer_event(**kwargs) -> dict:
    return se.event("customer.created", se.customer(se.new_id("cus"), email="ada@example.com"), **kwargs)


def test_a_signed_event_is_stored_once_and_processed(deliver):
    evt = a_customer_event()
    response = deliver(evt)
    assert response.status_code == 200
    stored = StripeEvent.objects.get(stripe_id=evt["id"])
    assert stored.type == "customer.created"
    assert stored.status == EventStatus.PROCESSED  # eager worker in tests: processing ran after commit
    assert stored.secret_index == 0


def test_a_duplicate_delivery_answers_200_and_is_not_processed_again(deliver):
    evt = a_customer_event()
    deliver(evt)
    first = StripeEvent.objects.get(stripe_id=evt["id"])
    assert first.status == EventStatus.PROCESSED
    response = deliver(evt)
    assert response.status_code == 200 and response.json()["duplicate"] is True
    again = StripeEvent.objects.get(stripe_id=evt["id"])
    assert StripeEvent.objects.count() == 1
    assert (again.attempts, again.processed_at) == (first.attempts, first.processed_at)


def test_processing_is_scheduled_only_after_the_commit(client, django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        se.post(client, a_customer_event())
    assert len(callbacks) == 1
    assert StripeEvent.objects.get().status == EventStatus.RECEIVED


@pytest.mark.parametrize(
    ("case", "expected_reason"),
    [
        ("wrong_secret", "signature does not match"),
        ("tampered_body", "signature does not match"),
        ("old_timestamp", "outside the tolerance"),
        ("no_header", "missing Stripe-Signature"),
        ("garbage_header", "malformed Stripe-Signature"),
    ],
)
def test_a_bad_signature_is_refused_with_a_reason_and_nothing_is_stored(client, case, expected_reason):
    raw = se.body(a_customer_event())
    if case == "wrong_secret":
        response = se.post(client, raw, secret="whsec_someone_else")
    elif case == "tampered_body":
        header = se.sign(raw)
        response = se.post(client, raw.replace(b'"livemode": false', b'"livemode": true'), header=header)
    elif case == "old_timestamp":
        response = se.post(client, raw, timestamp=int(time.time()) - 600)
    elif case == "no_header":
        response = se.post(client, raw, header="")
    else:
        response = se.post(client, raw, header="this is not a signature")
    assert response.status_code == 400
    assert expected_reason in response.json()["error"]
    assert StripeEvent.objects.count() == 0


def test_both_secrets_verify_while_a_rotation_is_in_progress(client, rotating_secrets):
    new, old = a_customer_event(), a_customer_event()
    assert se.post(client, new, secret=SECRET).status_code == 200
    assert se.post(client, old, secret=OLD_SECRET).status_code == 200
    assert StripeEvent.objects.get(stripe_id=new["id"]).secret_index == 0
    assert StripeEvent.objects.get(stripe_id=old["id"]).secret_index == 1


def test_after_rotation_the_retired_secret_is_refused(client, settings):
    settings.STRIPE_WEBHOOK_SECRETS = [SECRET]
    assert se.post(client, a_customer_event(), secret=OLD_SECRET).status_code == 400


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "event"},
        {"id": "evt_1", "type": "customer.created", "created": 1600000000},
        {"id": "evt_1", "type": "customer.created", "created": "yesterday", "data": {"object": {}}},
        {"id": "evt_1", "created": 1600000000, "data": {"object": {}}},
        {"id": "", "type": "x", "created": 1600000000, "data": {"object": {}}},
        ["not", "an", "object"],
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused(client, payload):
    response = se.post(client, json.dumps(payload).encode())
    assert response.status_code == 400
    assert "malformed event" in response.json()["error"]
    assert StripeEvent.objects.count() == 0


@pytest.mark.parametrize("text", ["\\u0000", "\\ud800"])
def test_a_signed_event_with_text_no_database_can_store_is_refused(client, text):
    raw = se.body(a_customer_event()).replace(b'"livemode"', f'"note": "x{text}", "livemode"'.encode(), 1)
    response = se.post(client, raw)
    assert response.status_code == 400 and "malformed event" in response.json()["error"]
    assert StripeEvent.objects.count() == 0


def test_a_body_over_one_mebibyte_is_refused_with_413(client):
    evt = a_customer_event()
    evt["data"]["object"]["metadata"] = {"padding": "x" * (1024 * 1024)}
    response = se.post(client, evt)
    assert response.status_code == 413
    assert StripeEvent.objects.count() == 0


def test_an_event_of_the_other_stripe_mode_is_stored_flagged_and_not_applied(client):
    from customers.models import ExternalLink

    evt = a_customer_event(livemode=True)
    assert se.post(client, evt).status_code == 200
    stored = StripeEvent.objects.get(stripe_id=evt["id"])
    assert stored.mode_mismatch is True and stored.status == EventStatus.IGNORED
    assert not ExternalLink.objects.exists()


def test_the_door_needs_no_login_and_no_csrf_token():
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert se.post(strict, a_customer_event()).status_code == 200


def test_too_many_requests_from_one_address_get_429(client, settings):
    settings.STRIPE_WEBHOOK_RATE_LIMIT = "3/m"
    from django.core.cache import cache

    cache.clear()
    statuses = [se.post(client, a_customer_event()).status_code for _ in range(5)]
    cache.clear()
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    assert StripeEvent.objects.count() == 3


def test_a_type_we_do_not_handle_is_stored_and_marked_ignored(deliver):
    evt = se.event("product.created", {"id": "prod_1", "object": "product"})
    assert deliver(evt).status_code == 200
    assert StripeEvent.objects.get(stripe_id=evt["id"]).status == EventStatus.IGNORED


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_door_stores_with_one_statement(client):
    """The door answers Stripe at full rate: one INSERT in autocommit, no BEGIN/COMMIT round trips.
    (The eager test worker then processes the event; those queries come after.)"""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    evt = a_customer_event()
    with CaptureQueriesContext(connection) as queries:
        assert se.post(client, evt).status_code == 200
    first = queries.captured_queries[0]["sql"]
    assert first.startswith('INSERT INTO "billing_stripeevent"'), first
    assert StripeEvent.objects.filter(stripe_id=evt["id"], status=EventStatus.PROCESSED).exists()
    # A duplicate is refused by the unique id and answered without breaking anything.
    response = se.post(client, evt)
    assert response.status_code == 200 and response.json()["duplicate"] is True
    assert StripeEvent.objects.filter(stripe_id=evt["id"]).count() == 1


@pytest.mark.parametrize("depth", [100, 5000])
def test_a_signed_body_nested_far_deeper_than_any_event_is_refused_with_400(client, depth):
    evt = a_customer_event()
    raw = se.body(evt).replace(b'"metadata": {}', b'"metadata": {"deep": ' + b"[" * depth + b"]" * depth + b"}", 1)
    response = se.post(client, raw)
    assert response.status_code == 400
    assert "nested deeper than" in response.json()["error"]
    assert StripeEvent.objects.count() == 0


@pytest.mark.parametrize("livemode", ["false", "true", 0, 1, None, "missing"])
def test_livemode_that_is_not_a_json_boolean_is_a_shape_error(client, livemode):
    evt = a_customer_event()
    if livemode == "missing":
        del evt["livemode"]
    else:
        evt["livemode"] = livemode
    response = se.post(client, evt)
    assert response.status_code == 400
    assert "livemode is not true or false" in response.json()["error"]
    assert StripeEvent.objects.count() == 0


def test_a_signature_dated_beyond_the_tolerance_in_the_future_is_refused_like_an_old_one(client):
    raw = se.body(a_customer_event())
    response = se.post(client, raw, timestamp=int(time.time()) + 600)
    assert response.status_code == 400
    assert "outside the tolerance" in response.json()["error"]
    assert StripeEvent.objects.count() == 0
    # within the tolerance (a clock a little ahead) it is accepted
    assert se.post(client, raw, timestamp=int(time.time()) + 60).status_code == 200
