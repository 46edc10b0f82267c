"""Reconciliation against a loopback fake of Stripe's list endpoints: every planted drift found, then repaired."""

import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from billing.models import Charge, Drift, Refund, Subscription
from customers.models import Customer, CustomerStatus
from tests import stripe_events as se

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000


def listing(objects: list[dict], url: str) -> dict:
    return {"object": "list", "data": objects, "has_more": False, "url": url}


@pytest.fixture
def fake_stripe(settings, httpserver):
    settings.STRIPE_API_KEY = "sk_test_reconcile"
    settings.STRIPE_API_BASE = httpserver.url_for("").rstrip("/")
    # As installed (2): the loopback server may close a kept-alive connection between two lists,
    # which the SDK retries on a new one, as it would against Stripe.
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    return httpserver


def serve(httpserver, *, customers, subscriptions, charges, refunds) -> None:
    for path, objects in (("customers", customers), ("subscriptions", subscriptions), ("charges", charges), ("refunds", refunds)):
        httpserver.expect_request(f"/v1/{path}", method="GET").respond_with_json(listing(objects, f"/v1/{path}"))


@pytest.fixture
def planted(deliver, fake_stripe):
    """Local state from webhooks, and a Stripe that has moved on in four ways."""
    deliver(se.event("customer.subscription.created", se.subscription("sub_B", "cus_B", status="active"), created=T0))
    deliver(se.event("charge.succeeded", se.charge("ch_C", "cus_B", amount=4900), created=T0))
    deliver(se.event("customer.subscription.created", se.subscription("sub_OK", "cus_OK", status="active"), created=T0))
    serve(
        fake_stripe,
        customers=[se.customer("cus_A", email="new@example.com"), se.customer("cus_B"), se.customer("cus_OK")],
        subscriptions=[
            se.subscription("sub_A", "cus_A", status="active", amount=1900),  # missing locally
            se.subscription("sub_B", "cus_B", status="past_due"),  # status differs
            se.subscription("sub_OK", "cus_OK", status="active"),  # agrees
        ],
        charges=[se.charge("ch_C", "cus_B", amount=4900, amount_refunded=500)],  # amount differs
        refunds=[se.refund("re_D", "ch_C", amount=500)],  # missing locally
    )
    return fake_stripe


def run(*args) -> str:
    out = io.StringIO()
    call_command("reconcile_stripe", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_reconcile_reports_every_planted_drift_and_changes_nothing(planted):
    output = run()
    for line in ("customer cus_A: missing", "subscription sub_A: missing", "subscription sub_B: status status",
                 "charge ch_C: amount amount_refunded", "refund re_D: missing"):
        assert line in output, output
    assert "sub_OK" not in output
    assert Drift.objects.open().count() == 5
    assert Subscription.objects.get(stripe_id="sub_B").status == "active"
    assert not Subscription.objects.filter(stripe_id="sub_A").exists()


def test_drift_is_an_incident_in_the_action_queue(planted):
    from monitoring.alerts import alerts_evaluate

    run()
    assert "stripe_drift" in {i.rule for i in alerts_evaluate()}


def test_apply_repairs_from_stripe_audited_and_a_second_run_finds_nothing(planted):
    assert "repaired 5" in run("--apply")
    assert Subscription.objects.get(stripe_id="sub_B").status == "past_due"
    assert Customer.objects.get(links__external_id="cus_B").status == CustomerStatus.PAST_DUE
    assert Customer.objects.get(links__external_id="cus_A").status == CustomerStatus.ACTIVE  # backfilled
    assert Charge.objects.get(stripe_id="ch_C").amount_refunded == 500
    assert Refund.objects.get(stripe_id="re_D").customer == Customer.objects.get(links__external_id="cus_B")
    assert Drift.objects.open().count() == 0
    assert AuditEvent.objects.filter(action="stripe.reconciled", source="command").count() == 5
    assert "0 differences" in run()


def test_a_webhook_older_than_the_repair_does_not_undo_it(planted, deliver):
    run("--apply")
    deliver(se.event("customer.subscription.updated", se.subscription("sub_B", "cus_B", status="active"), created=T0 + 60))
    assert Subscription.objects.get(stripe_id="sub_B").status == "past_due"


def test_reconcile_says_plainly_when_stripe_refuses_the_key(fake_stripe):
    fake_stripe.expect_request("/v1/customers").respond_with_json(
        {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}, status=401
    )
    with pytest.raises(CommandError, match="Stripe refused our API key"):
        run()


def test_reconcile_needs_an_api_key(settings):
    settings.STRIPE_API_KEY = ""
    with pytest.raises(CommandError, match="set STRIPE_API_KEY"):
        run()


def test_a_customer_backfilled_from_stripe_takes_its_email_from_stripes_customer_object(planted):
    run("--apply")
    assert Customer.objects.get(links__external_id="cus_A").email == "new@example.com"
