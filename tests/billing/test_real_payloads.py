"""Every real Stripe payload in the shared fixtures, signed and posted through the real URL."""

import json

import pytest

from billing import models as b
from billing.models import EventStatus, StripeEvent
from customers.models import Customer, ExternalLink, System
from tests.billing.conftest import shared_events_dir, with_fresh_id

pytestmark = pytest.mark.django_db

NO_CUSTOMER = None
# file -> (mirror model written, status of the customer it belongs to; None when the payload names none)
EXPECTED = {
    "charge.dispute.created--oc-2022-08-01.json": (b.Dispute, NO_CUSTOMER),
    "charge.dispute.created--srm-2020-08-27.json": (b.Dispute, NO_CUSTOMER),
    "charge.refund.updated--srm-2020-08-27.json": (b.Refund, NO_CUSTOMER),
    "charge.refund.updated--zulip-2018-05-21.json": (b.Refund, NO_CUSTOMER),
    "charge.refunded--srm-2020-08-27.json": (b.Charge, NO_CUSTOMER),
    "charge.refunded--srm-noversion.json": (b.Charge, "trial"),  # fully refunded: nothing paid
    "charge.succeeded--srm-2020-08-27.json": (b.Charge, NO_CUSTOMER),
    "charge.succeeded--sse-2020-03-02.json": (b.Charge, "active"),
    "charge.succeeded--zulip-2018-11-08.json": (b.Charge, "active"),
    "checkout.session.completed--srm-2020-08-27.json": (None, "trial"),
    "checkout.session.completed--srm-noversion-payment-mode.json": (None, "trial"),
    "customer.created--srm-2020-08-27.json": (b.StripeCustomer, "trial"),
    "customer.created--zulip-2016-07-06.json": (b.StripeCustomer, "trial"),
    "customer.deleted--srm-2020-08-27.json": (b.StripeCustomer, "canceled"),
    "customer.deleted--zulip-2016-07-06.json": (b.StripeCustomer, "canceled"),
    "customer.subscription.created--srm-2020-08-27.json": (b.Subscription, "active"),
    "customer.subscription.created--zulip-2016-07-06.json": (b.Subscription, "active"),
    "customer.subscription.created--zulip-2026-04-22.dahlia.json": (b.Subscription, "active"),
    "customer.subscription.deleted--srm-2020-08-27.json": (b.Subscription, "canceled"),
    "customer.subscription.deleted--sse-2020-03-02.json": (b.Subscription, "canceled"),
    "customer.subscription.deleted--zulip-2016-07-06.json": (b.Subscription, "canceled"),
    "customer.subscription.trial_will_end--srm-noversion.json": (b.Subscription, "trial"),
    "customer.subscription.trial_will_end--zulip-2016-07-06.json": (b.Subscription, "trial"),
    "customer.subscription.updated--srm-2020-08-27.json": (b.Subscription, "active"),
    "customer.subscription.updated--zulip-2018-11-08.json": (b.Subscription, "trial"),
    "customer.updated--srm-2020-08-27.json": (b.StripeCustomer, "trial"),
    "customer.updated--zulip-2018-11-08.json": (b.StripeCustomer, "trial"),
    "invoice.paid--constructed-2025-03-31.basil.json": (b.Invoice, "active"),
    "invoice.paid--srm-2020-08-27.json": (b.Invoice, "active"),
    "invoice.paid--sse-2020-03-02.json": (b.Invoice, "active"),
    "invoice.payment_failed--srm-2020-08-27.json": (b.Invoice, "past_due"),
    "invoice.payment_failed--zulip-2016-07-06.json": (b.Invoice, "past_due"),
    "invoice.payment_succeeded--oc-2015-04-07.json": (b.Invoice, "active"),
    "invoice.payment_succeeded--srm-2020-08-27.json": (b.Invoice, "active"),
    "payment_intent.payment_failed--srm-2018-02-28.json": (b.PaymentIntent, "trial"),
    "payment_intent.payment_failed--srm-2020-08-27.json": (b.PaymentIntent, NO_CUSTOMER),
    "payment_intent.succeeded--srm-2018-02-28.json": (b.PaymentIntent, "active"),
    "payment_intent.succeeded--srm-2020-08-27.json": (b.PaymentIntent, NO_CUSTOMER),
}


def _names() -> list[str]:
    path = shared_events_dir()
    return sorted(f.name for f in path.glob("*.json")) if path else ["(shared fixtures absent)"]


def test_the_expectations_cover_every_shared_payload(shared_events):
    assert set(shared_events) == set(EXPECTED)


@pytest.mark.parametrize("name", _names())
def test_each_real_payload_lands_in_its_mirror_and_sets_the_customer_status(shared_events, deliver, settings, name):
    raw = shared_events[name]
    payload = json.loads(raw)
    settings.STRIPE_LIVEMODE = payload.get("livemode", False)  # applied in the mode it was sent from
    response = deliver(raw)  # the exact bytes, as Stripe signs them
    assert response.status_code == 200, response.content

    event = StripeEvent.objects.get(stripe_id=payload["id"])
    assert event.status == EventStatus.PROCESSED, event.last_error
    mirror_model, status = EXPECTED[name]
    obj = payload["data"]["object"]
    if mirror_model is not None:
        mirror = mirror_model.objects.get(stripe_id=obj["id"])
        assert mirror.last_event_id == payload["id"]
        if "currency" in obj and obj["currency"]:
            assert mirror.currency == obj["currency"]
    stripe_customer = obj["id"] if obj.get("object") == "customer" else obj.get("customer")
    if status is None:
        assert event.customer is None
    else:
        link = ExternalLink.objects.get(system=System.STRIPE, external_id=stripe_customer)
        assert link.customer.status == status, link.customer.status_reason
        assert event.customer == link.customer


def test_newest_subscription_shape_reads_the_period_from_its_items(shared_events, deliver):
    name = "customer.subscription.created--zulip-2026-04-22.dahlia.json"
    item = json.loads(shared_events[name])["data"]["object"]["items"]["data"][0]
    deliver(shared_events[name])
    sub = b.Subscription.objects.get()
    assert int(sub.current_period_end.timestamp()) == item["current_period_end"]
    assert sub.amount == item["price"]["unit_amount"] * item["quantity"]
    assert sub.customer.mrr == sub.amount and sub.customer.plan == item["price"]["id"]


def test_a_basil_invoice_finds_its_subscription_under_parent(shared_events, deliver):
    name = "invoice.paid--constructed-2025-03-31.basil.json"
    obj = json.loads(shared_events[name])["data"]["object"]
    deliver(shared_events[name])
    invoice = b.Invoice.objects.get()
    assert "subscription" not in obj
    assert invoice.subscription_stripe_id == obj["parent"]["subscription_details"]["subscription"]
    assert invoice.amount_paid == obj["amount_paid"] and invoice.status == "paid"


def test_a_pre_items_subscription_reads_its_single_plan(shared_events, deliver):
    name = "customer.subscription.created--zulip-2016-07-06.json"
    obj = json.loads(shared_events[name])["data"]["object"]
    deliver(shared_events[name])
    sub = b.Subscription.objects.get()
    assert "items" not in obj
    assert sub.amount == obj["plan"]["amount"] * obj["quantity"]
    assert sub.plan_name == obj["plan"]["name"] and sub.interval == obj["plan"]["interval"]


def test_an_old_payment_intent_reads_its_charge_from_the_embedded_list(shared_events, deliver):
    name = "payment_intent.succeeded--srm-2018-02-28.json"
    obj = json.loads(shared_events[name])["data"]["object"]
    deliver(shared_events[name])
    assert b.PaymentIntent.objects.get().latest_charge_id == obj["charges"]["data"][0]["id"]


def test_an_old_customer_reads_account_balance_as_balance(shared_events, deliver):
    name = "customer.created--zulip-2016-07-06.json"
    obj = json.loads(shared_events[name])["data"]["object"]
    deliver(shared_events[name])
    assert "balance" not in obj
    assert b.StripeCustomer.objects.get().balance == obj["account_balance"]


def test_all_payloads_with_fresh_ids_apply_in_any_order_to_the_same_final_state(shared_events, client, settings, django_capture_on_commit_callbacks):
    from tests.billing.state import final_state, reset_billing
    from tests import stripe_events as se
    import random

    settings.STRIPE_LIVEMODE = False
    bodies = [with_fresh_id(raw, f"evt_fx_{i:03d}", livemode=False) for i, raw in enumerate(shared_events.values())]
    states = []
    for seed in (1, 2, 3):
        reset_billing()
        order = bodies[:]
        random.Random(seed).shuffle(order)
        with django_capture_on_commit_callbacks(execute=True):
            for raw in order:
                assert se.post(client, raw).status_code == 200
        assert StripeEvent.objects.exclude(status=EventStatus.PROCESSED).count() == 0
        states.append(final_state())
    assert states[0] == states[1] == states[2]
    assert Customer.objects.count() >= 5
