"""Slack notices through the outbox, one per chosen fact; and a rotated secret signing beside the new
one for its overlap, through real deliveries."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from sync.models import SyncJob
from tests.factories import CustomerFactory
from tests.sync.helpers import run
from tests.webhooks.helpers import dispute_fact, endpoint_at, slack_at
from tests.webhooks.receiver import Receiver
from webhooks import slack
from webhooks.facts import Fact, facts_publish
from webhooks.services import endpoint_rotate

pytestmark = pytest.mark.django_db


def _fact(customer, kind: str, about: str, **fields) -> Fact:
    return Fact(type=kind, customer=customer, about={"source": "stripe", "id": about},
                cause={"source": "stripe", "id": f"evt_{about}"}, fields=fields)


def test_slack_gets_one_notice_per_chosen_fact_with_the_id_plan_and_360_link_only(settings):
    settings.SYNC_HTTP_READ_TIMEOUT = 1
    customer = CustomerFactory(plan="Pro", email="ada@example.com", name="Ada Lovelace")
    with Receiver() as channel:
        route = slack_at(channel.url, slack.PAYMENT_FAILED, slack.BIG_REFUND, refund_threshold_cents=10000)
        failed = _fact(customer, "payment.failed", "ch_1", amount_cents=4900, currency="usd")
        jobs = facts_publish(facts=[
            failed, failed,  # the same fact twice
            _fact(customer, "refund.succeeded", "re_small", amount_cents=5000, currency="usd"),
            _fact(customer, "refund.succeeded", "re_big", amount_cents=25000, currency="usd"),
            dispute_fact(customer),  # a notice this route did not choose
        ])
        assert len(jobs) == 2
        assert facts_publish(facts=[failed]) == []  # and again later: nothing
        assert all(run(job) == "succeeded" for job in jobs)
    texts = [json.loads(d["body"])["text"] for d in channel.deliveries]
    assert len(texts) == 2 and "Failed payment" in texts[0] and "250.00 USD" in texts[1]
    assert all(f"{customer.public_id} (Pro)" in t and f"/{customer.public_id}" in t for t in texts)
    assert not any("ada@example.com" in t or "Ada" in t for t in texts)
    assert not any("webhook-signature" in d["headers"] for d in channel.deliveries)
    assert SyncJob.objects.filter(system=route.system).count() == 2


def test_a_new_paying_customer_is_told_once_and_a_returning_one_not():
    customer = CustomerFactory()
    route = slack_at("https://hooks.slack.com/services/T/B/x", slack.NEW_PAYING)
    assert len(facts_publish(facts=[_fact(customer, "customer.status_changed", "evt_a", **{
        "from": "trial", "to": "active", "was_paying": False})])) == 1
    assert facts_publish(facts=[_fact(customer, "customer.status_changed", "evt_b", **{
        "from": "past_due", "to": "active", "was_paying": True})]) == []
    assert SyncJob.objects.filter(system=route.system).count() == 1


def test_while_a_rotated_secret_overlaps_both_verify_and_after_it_only_the_new(settings):
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 24
    customer = CustomerFactory()
    with Receiver() as receiver, time_machine.travel(timezone.now(), tick=True) as traveller:
        endpoint = endpoint_at(receiver.url)
        old = endpoint.secret
        new = endpoint_rotate(endpoint=endpoint, actor=None)
        receiver.secrets = [old, new]
        [during] = facts_publish(facts=[dispute_fact(customer, dispute="dp_during")])
        assert run(during) == "succeeded"
        traveller.shift(timedelta(hours=25))
        [after] = facts_publish(facts=[dispute_fact(customer, dispute="dp_after")])
        assert run(after) == "succeeded"
    assert [d["verified"] for d in receiver.deliveries] == [[True, True], [False, True]]
