"""Deliveries over real HTTP to a loopback receiver that verifies each one with standardwebhooks;
failures become the outbox's errors, and a retry carries the same webhook-id."""

from datetime import datetime, timedelta, timezone

import pytest

from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.http import recording
from tests.webhooks.receiver import Receiver
from webhooks import catalog, send, signing, slack


def fact(message_id: str = "msg_fact_1") -> str:
    return catalog.body(catalog.envelope(
        message_id, "dispute.opened", datetime.now(timezone.utc), customer="c-1", linked={"stripe": "cus_1"},
        cause={"source": "stripe", "id": "evt_9"}, fields={"dispute": "dp_1"}))


def test_the_receiver_verifies_a_delivery_and_the_trace_keeps_status_and_timing():
    keys = signing.Keys(signing.new_secret())
    with Receiver(keys.current) as receiver, recording() as trace:
        assert send.deliver(receiver.url, "msg_fact_1", fact(), keys, datetime.now(timezone.utc)) == 204
    [delivery] = receiver.deliveries
    assert delivery["verified"] == [True]
    assert delivery["headers"]["webhook-id"] == "msg_fact_1"
    assert trace[0]["status"] == 204 and trace[0]["ms"] >= 0 and "request" not in trace[0]
    assert "/hooks" not in str(trace)  # the endpoint's path may be a secret


def test_a_5xx_is_transient_and_the_retry_carries_the_same_webhook_id():
    keys = signing.Keys(signing.new_secret())
    with Receiver(keys.current) as receiver:
        receiver.answers = [(503, {"Retry-After": "7"}, 0.0)]
        with pytest.raises(ProviderError) as failed:
            send.deliver(receiver.url, "msg_fact_1", fact(), keys, datetime.now(timezone.utc))
        assert not failed.value.permanent and failed.value.status_code == 503 and failed.value.retry_after == 7
        send.deliver(receiver.url, "msg_fact_1", fact(), keys, datetime.now(timezone.utc))
    assert [d["headers"]["webhook-id"] for d in receiver.deliveries] == ["msg_fact_1", "msg_fact_1"]
    assert all(d["verified"] == [True] for d in receiver.deliveries)


def test_a_429_keeps_its_retry_after_and_a_4xx_is_permanent():
    keys = signing.Keys(signing.new_secret())
    with Receiver(keys.current) as receiver:
        receiver.answers = [(429, {"Retry-After": "30"}, 0.0), (410, {}, 0.0)]
        with pytest.raises(ProviderError) as limited:
            send.deliver(receiver.url, "m", fact("m"), keys, datetime.now(timezone.utc))
        assert limited.value.reason_code == ReasonCode.RATE_LIMITED and limited.value.retry_after == 30
        with pytest.raises(ProviderError) as gone:
            send.deliver(receiver.url, "m", fact("m"), keys, datetime.now(timezone.utc))
        assert gone.value.permanent


def test_a_timeout_is_transient(settings):
    settings.SYNC_HTTP_READ_TIMEOUT = 0.3
    keys = signing.Keys(signing.new_secret())
    with Receiver(keys.current) as receiver:
        receiver.answers = [(204, {}, 1.0)]
        with pytest.raises(ProviderError) as slow:
            send.deliver(receiver.url, "m", fact("m"), keys, datetime.now(timezone.utc))
    assert slow.value.reason_code == ReasonCode.TIMEOUT and not slow.value.permanent


def test_during_a_rotation_overlap_receivers_with_either_secret_accept():
    old = signing.Keys(signing.new_secret())
    keys = old.rotated(datetime.now(timezone.utc), timedelta(hours=1))
    with Receiver(old.current, keys.current) as receiver:
        send.deliver(receiver.url, "m", fact("m"), keys, datetime.now(timezone.utc))
    assert receiver.deliveries[0]["verified"] == [True, True]


def test_a_slack_route_gets_its_own_body_unsigned_through_the_same_path():
    text = catalog.body(slack.body(slack.Route(frozenset({slack.PAYMENT_FAILED})), slack.PAYMENT_FAILED,
                                   customer="c-1", plan="pro", customer_url="https://sb.example/customers/c-1/",
                                   data={}))
    with Receiver() as receiver:
        assert send.deliver(receiver.url, "msg_fact_1", text, None, datetime.now(timezone.utc)) == 204
    [delivery] = receiver.deliveries
    assert delivery["body"] == text and "webhook-signature" not in delivery["headers"]
