"""Deliveries are signed so the Standard Webhooks reference verifier accepts them, retries keep their
webhook-id, and a rotated secret keeps signing only for its overlap."""

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from webhooks import catalog, signing

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc)


def delivery(keys: signing.Keys, now: datetime = NOW, message_id: str = "msg_1"):
    payload = catalog.envelope(message_id, "payment.failed", now, customer="c-1", linked={"stripe": "cus_1"},
                               cause={"source": "stripe", "id": "evt_1"}, fields={"amount_cents": 4900})
    text = catalog.body(payload)
    return text, signing.headers(message_id, text, keys, now)


@time_machine.travel(NOW, tick=False)
def test_the_reference_verifier_accepts_a_delivery_and_returns_its_payload():
    keys = signing.Keys(signing.new_secret())
    text, headers = delivery(keys)
    received = Webhook(keys.current).verify(text, headers)
    assert received["type"] == "payment.failed"
    assert received["data"]["customer"] == "c-1"
    assert received["data"]["cause"] == {"source": "stripe", "id": "evt_1"}


@time_machine.travel(NOW, tick=False)
def test_a_tampered_body_or_another_secret_is_refused():
    keys = signing.Keys(signing.new_secret())
    text, headers = delivery(keys)
    with pytest.raises(WebhookVerificationError):
        Webhook(keys.current).verify(text.replace("4900", "1"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(text, headers)


def test_a_retry_carries_the_same_webhook_id_and_a_fresh_timestamp():
    keys = signing.Keys(signing.new_secret())
    later = NOW + timedelta(minutes=7)
    first, second = delivery(keys, NOW)[1], delivery(keys, later)[1]
    assert first["webhook-id"] == second["webhook-id"] == "msg_1"
    assert int(second["webhook-timestamp"]) - int(first["webhook-timestamp"]) == 420
    with time_machine.travel(later, tick=False):
        text, headers = delivery(keys, later)
        assert Webhook(keys.current).verify(text, headers)


def test_during_the_overlap_both_secrets_verify_and_only_the_new_one_after():
    old = signing.Keys(signing.new_secret())
    keys = old.rotated(NOW, timedelta(hours=24))
    assert keys.previous == old.current and keys.current != old.current

    during = NOW + timedelta(hours=23)
    with time_machine.travel(during, tick=False):
        text, headers = delivery(keys, during)
        assert len(headers["webhook-signature"].split(" ")) == 2
        assert Webhook(old.current).verify(text, headers)
        assert Webhook(keys.current).verify(text, headers)

    after = NOW + timedelta(hours=24, seconds=1)
    with time_machine.travel(after, tick=False):
        text, headers = delivery(keys, after)
        assert len(headers["webhook-signature"].split(" ")) == 1
        assert Webhook(keys.current).verify(text, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old.current).verify(text, headers)


def test_secrets_are_fresh_and_in_the_standard_form():
    first, second = signing.new_secret(), signing.new_secret()
    assert first != second and first.startswith("whsec_")
    Webhook(first)  # readable by the reference library
