"""The ten facts come from the real pipeline (Stripe events through the door, a ticket opened, a merge),
once per change: a replayed event, or a second Stripe event about the same payment, adds no delivery."""

import json

import pytest
from celery import current_app

from billing.models import StripeEvent
from billing.services.processing import event_process, event_replay
from customers.models import Customer
from customers.services import customers_merge
from sync.models import SyncJob
from tests import stripe_events as se
from tests.factories import CustomerFactory
from tests.webhooks.helpers import endpoint_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_worker(settings):
    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    settings.STRIPE_LIVEMODE = False
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = False
    yield
    current_app.conf.task_always_eager = eager


def _apply(client, *events: dict) -> None:
    for evt in events:
        assert se.post(client, evt).status_code == 200
        event_process(event_id=StripeEvent.objects.get(stripe_id=evt["id"]).pk)


def _delivered(endpoint) -> list[dict]:
    jobs = SyncJob.objects.filter(system=endpoint.system).order_by("pk")
    return [json.loads(job.payload["body"]) for job in jobs]


def test_a_customer_s_life_makes_each_documented_fact_once(client, no_worker):
    endpoint = endpoint_at("https://receiver.example/hooks")
    cid = "cus_HOOKS1"
    _apply(client, se.event("customer.created", se.customer(cid, email="ada@example.com")),
           se.event("customer.subscription.created", se.subscription("sub_HOOKS1", cid, status="trialing")))
    upgraded = se.subscription("sub_HOOKS1", cid, status="active", nickname="Business", amount=9900)
    _apply(client, se.event("customer.subscription.updated", upgraded, created=1_600_000_100),
           se.event("charge.succeeded", se.charge("ch_HOOKS1", cid, payment_intent="pi_HOOKS1"),
                    created=1_600_000_200),
           se.event("payment_intent.succeeded", se.payment_intent("pi_HOOKS1", cid), created=1_600_000_200),
           se.event("charge.failed", se.charge("ch_HOOKS2", cid, paid=False, failure_code="card_declined"),
                    created=1_600_000_300),
           se.event("refund.created", se.refund("re_HOOKS1", "ch_HOOKS1", amount=1000), created=1_600_000_400),
           se.event("charge.dispute.created", se.dispute("dp_HOOKS1", "ch_HOOKS1"), created=1_600_000_500),
           se.event("charge.dispute.closed", se.dispute("dp_HOOKS1", "ch_HOOKS1", status="won"),
                    created=1_600_000_600))
    facts = _delivered(endpoint)
    types = [f["type"] for f in facts]
    for kind in ("customer.created", "customer.plan_changed", "payment.succeeded", "payment.failed",
                 "refund.succeeded", "dispute.opened", "dispute.closed"):
        assert types.count(kind) == 1, (kind, types)
    assert "customer.status_changed" in types
    customer = Customer.objects.get(public_id=facts[0]["data"]["customer"])
    assert all(f["data"]["customer"] == customer.public_id for f in facts)
    paid = next(f for f in facts if f["type"] == "payment.succeeded")["data"]
    assert paid["payment"] == "pi_HOOKS1" and paid["amount_cents"] == 4900 and paid["linked"]["stripe"] == cid
    assert paid["cause"]["source"] == "stripe" and paid["cause"]["id"].startswith("evt_")
    assert next(f for f in facts if f["type"] == "dispute.closed")["data"]["outcome"] == "won"

    before = SyncJob.objects.filter(system=endpoint.system).count()
    for event in StripeEvent.objects.all():
        event_replay(event=event, source="ui")
    assert SyncJob.objects.filter(system=endpoint.system).count() == before


def test_a_ticket_opened_for_a_customer_is_a_fact(owner):
    from support.services import ticket_open

    endpoint = endpoint_at("https://receiver.example/hooks", event_types=["ticket.opened"])
    customer = CustomerFactory()
    ticket_open(customer=customer, subject="Cannot log in", category="access", priority="normal",
                note="Since this morning", actor=owner, token="t-1")
    [fact] = _delivered(endpoint)
    assert fact["type"] == "ticket.opened" and fact["data"]["customer"] == customer.public_id
    assert fact["data"]["subject"] == "Cannot log in"


def test_a_merge_is_told_under_the_survivor_naming_the_retired_record(owner):
    endpoint = endpoint_at("https://receiver.example/hooks", event_types=["customer.merged"])
    survivor, merged = CustomerFactory(), CustomerFactory()
    customers_merge(survivor=survivor, merged=merged, actor=owner, source="ui")
    [fact] = _delivered(endpoint)
    assert fact["data"]["customer"] == survivor.public_id and fact["data"]["merged_from"] == merged.public_id


def test_without_endpoints_a_billing_change_writes_no_delivery(client, no_worker):
    _apply(client, se.event("customer.created", se.customer("cus_HOOKS9", email="x@example.com")))
    assert not SyncJob.objects.filter(system__startswith="webhook:").exists()
