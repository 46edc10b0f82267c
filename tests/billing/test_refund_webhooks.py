"""Stripe's refund webhooks and our API call agree on one Refund row and move the request on."""

import time

import pytest

from audit.models import AuditEvent
from billing.models import Charge, Refund, RefundStatus
from billing.services.refunds import refund_execute, refund_request
from tests import stripe_events as se
from tests.billing.stripe_fake import stripe_fake  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def charge(deliver) -> Charge:
    cid, chid = se.new_id("cus"), se.new_id("ch")
    deliver(se.event("customer.created", se.customer(cid, email="payer@example.com", name="Pat Payer")))
    deliver(se.event("charge.succeeded", se.charge(chid, cid, amount=4900)))
    return Charge.objects.get(stripe_id=chid)


def _refund_event(event_type, stripe_refund: dict, *, status=None, created=None):
    obj = {**stripe_refund, "status": status or stripe_refund["status"]}
    return se.event(event_type, obj, created=created or int(time.time()) + 1)


def test_the_webhook_after_the_api_reply_keeps_one_refund_row(stripe_fake, deliver, charge, finance):
    stripe_fake.refund_status = "pending"
    request = refund_request(charge=charge, amount=4900, reason="requested_by_customer", note="", actor=finance)
    request = refund_execute(request=request, actor=finance)
    assert request.status == RefundStatus.PENDING
    sent = stripe_fake.refunds[request.stripe_refund_id]

    deliver(_refund_event("refund.created", sent, status="pending"))
    deliver(_refund_event("refund.updated", sent, status="succeeded", created=int(time.time()) + 2))

    assert Refund.objects.filter(stripe_id=request.stripe_refund_id).count() == 1
    assert Refund.objects.count() == 1
    request.refresh_from_db()
    assert request.status == RefundStatus.SUCCEEDED
    confirmed = AuditEvent.objects.get(action="refund.confirmed")
    assert confirmed.source == "webhook" and confirmed.customer_id == charge.customer_id


def test_the_webhook_before_the_api_reply_is_the_same_row(stripe_fake, deliver, charge, finance, settings):
    """Stripe's event can beat the API reply (here: the reply timed out); the refund's metadata finds the request."""
    settings.STRIPE_READ_TIMEOUT = 0.5
    stripe_fake.slow_first = 1.5
    request = refund_request(charge=charge, amount=1000, reason="duplicate", note="", actor=finance)
    request = refund_execute(request=request, actor=finance)
    assert request.status == RefundStatus.PENDING and not request.stripe_refund_id
    (sent,) = stripe_fake.refunds.values()

    deliver(_refund_event("refund.created", sent))
    request.refresh_from_db()
    assert request.status == RefundStatus.SUCCEEDED
    assert request.stripe_refund_id == sent["id"]

    # The retry learns the same refund from Stripe and changes nothing.
    again = refund_execute(request=request, actor=finance)
    assert again.status == RefundStatus.SUCCEEDED
    assert stripe_fake.created == 1
    assert Refund.objects.count() == 1


def test_charge_refunded_with_embedded_refunds_confirms_the_request(stripe_fake, deliver, charge, finance):
    stripe_fake.refund_status = "pending"
    request = refund_execute(
        request=refund_request(charge=charge, amount=4900, reason="fraudulent", note="", actor=finance), actor=finance
    )
    sent = {**stripe_fake.refunds[request.stripe_refund_id], "status": "succeeded"}
    obj = se.charge(charge.stripe_id, charge.stripe_customer_id, amount=4900, amount_refunded=4900, refunds=[sent])
    deliver(se.event("charge.refunded", obj, created=int(time.time()) + 1))

    request.refresh_from_db()
    charge.refresh_from_db()
    assert request.status == RefundStatus.SUCCEEDED
    assert charge.refunded and charge.amount_refunded == 4900
    assert Refund.objects.count() == 1


def test_a_refund_that_fails_later_marks_the_request_failed(stripe_fake, deliver, charge, finance):
    request = refund_execute(
        request=refund_request(charge=charge, amount=500, reason="duplicate", note="", actor=finance), actor=finance
    )
    assert request.status == RefundStatus.SUCCEEDED
    sent = {**stripe_fake.refunds[request.stripe_refund_id], "failure_reason": "expired_or_canceled_card"}
    deliver(_refund_event("refund.failed", sent, status="failed"))
    request.refresh_from_db()
    assert request.status == RefundStatus.FAILED
    assert "expired or was canceled" in request.error
    assert AuditEvent.objects.filter(action="refund.failed", source="webhook").exists()


def test_refunds_made_elsewhere_do_not_touch_requests(deliver, charge):
    deliver(_refund_event("refund.created", se.refund(se.new_id("re"), charge.stripe_id, amount=100)))
    assert Refund.objects.count() == 1
    assert not AuditEvent.objects.filter(action__startswith="refund.").exists()
