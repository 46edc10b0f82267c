"""Refunds without Stripe connected, a refused refund sent again once fixed, and the approval limit per currency."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from billing.models import RefundRequest, RefundStatus
from billing.services.refunds import approval_threshold, refund_needs_approval, refund_request
from tests.billing.stripe_fake import stripe_fake  # noqa: F401 - fixture
from tests.factories import ChargeFactory

pytestmark = pytest.mark.django_db


def test_without_a_key_the_page_says_stripe_is_not_connected_instead_of_the_form(client, finance, settings):
    settings.STRIPE_API_KEY = ""
    charge = ChargeFactory(amount=4900)
    client.force_login(finance)
    page = client.get(reverse("refund_new", args=[charge.customer.public_id])).content.decode()
    assert "Stripe is not connected." in page and 'id="refund-form"' not in page


def test_without_a_key_a_confirmation_records_nothing(client, finance, settings):
    settings.STRIPE_API_KEY = ""
    charge = ChargeFactory(amount=4900)
    client.force_login(finance)
    data = {"charge": charge.stripe_id, "amount": "10.00", "reason": "duplicate", "note": "", "token": "t" * 32}
    response = client.post(reverse("refund_confirm", args=[charge.customer.public_id]), data, follow=True)
    assert "Stripe is not connected" in response.content.decode()
    assert not RefundRequest.objects.exists() and not AuditEvent.objects.filter(action__startswith="refund.").exists()


def test_a_refund_refused_for_a_bad_key_shows_why_and_goes_through_once_fixed(client, finance, stripe_fake):
    charge = ChargeFactory(amount=4900)
    request = refund_request(charge=charge, amount=1000, reason="duplicate", note="", actor=finance)
    RefundRequest.objects.filter(pk=request.pk).update(
        status=RefundStatus.FAILED, attempts=1,
        error="Stripe refused our API key (missing, revoked or without refund rights).")
    client.force_login(finance)
    page = client.get(reverse("refund_detail", args=[request.pk])).content.decode()
    assert "Stripe refused our API key" in page and 'id="refund-retry"' in page and "Send again" in page
    response = client.post(reverse("refund_retry", args=[request.pk]))
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RefundStatus.SUCCEEDED and request.error == "" and stripe_fake.created == 1
    assert request.idempotency_key.endswith("-try-2")
    assert AuditEvent.objects.filter(action="refund.retried").exists()


def test_while_stripe_is_still_not_connected_the_retry_waits_and_says_so(client, finance, settings):
    settings.STRIPE_API_KEY = ""
    charge = ChargeFactory(amount=4900)
    request = refund_request(charge=charge, amount=1000, reason="duplicate", note="", actor=finance)
    RefundRequest.objects.filter(pk=request.pk).update(status=RefundStatus.FAILED, error="Refunds need a Stripe API key")
    client.force_login(finance)
    page = client.get(reverse("refund_detail", args=[request.pk])).content.decode()
    assert 'id="refund-retry-later"' in page and "Send again" not in page
    client.post(reverse("refund_retry", args=[request.pk]))
    request.refresh_from_db()
    assert request.status == RefundStatus.FAILED


@pytest.mark.parametrize(("currency", "limit"), [("usd", 50000), ("eur", 50000), ("jpy", 500), ("kwd", 500000)])
def test_the_approval_limit_follows_the_currencys_exponent(settings, currency, limit):
    settings.REFUND_APPROVAL_THRESHOLD = 50000
    settings.REFUND_APPROVAL_THRESHOLDS = {}
    assert approval_threshold(currency) == limit
    assert not refund_needs_approval(limit, currency) and refund_needs_approval(limit + 1, currency)


def test_a_limit_set_for_one_currency_wins(settings):
    settings.REFUND_APPROVAL_THRESHOLD = 50000
    settings.REFUND_APPROVAL_THRESHOLDS = {"jpy": 80000}
    assert approval_threshold("JPY") == 80000 and approval_threshold("usd") == 50000


def test_a_yen_refund_is_held_for_approval_by_the_yen_limit(settings, finance):
    settings.REFUND_APPROVAL_THRESHOLD = 50000
    settings.REFUND_APPROVAL_THRESHOLDS = {}
    charge = ChargeFactory(amount=20000, currency="jpy")
    request = refund_request(charge=charge, amount=5000, reason="duplicate", note="", actor=finance)
    assert request.status == RefundStatus.AWAITING_APPROVAL  # 5,000 JPY is over 500 JPY, not under 50,000
