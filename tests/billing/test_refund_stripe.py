"""Sending refunds through the real stripe SDK to a loopback fake of Stripe's refunds API."""

import pytest

from audit.models import AuditEvent
from billing.models import Refund, RefundStatus
from billing.services.refunds import refund_execute, refund_request
from tests.billing.stripe_fake import stripe_fake  # noqa: F401 - fixture
from tests.factories import ChargeFactory

pytestmark = pytest.mark.django_db


def _requested(finance, amount=1500, **charge):
    charge = ChargeFactory(**{"amount": 4900, **charge})
    return refund_request(charge=charge, amount=amount, reason="duplicate", note="", actor=finance)


def test_a_refund_succeeds_once_with_the_requests_idempotency_key(stripe_fake, finance):
    request = refund_execute(request=_requested(finance), actor=finance)
    assert request.status == RefundStatus.SUCCEEDED
    assert stripe_fake.created == 1
    sent = stripe_fake.requests[0]
    assert sent["key"] == f"refund-request-{request.pk}"
    assert sent["form"]["amount"] == "1500" and sent["form"]["reason"] == "duplicate"
    assert sent["form"]["metadata[switchboard_refund_request]"] == str(request.pk)
    mirror = Refund.objects.get(stripe_id=request.stripe_refund_id)
    assert (mirror.amount, mirror.status, mirror.customer_id) == (1500, "succeeded", request.customer_id)
    assert AuditEvent.objects.filter(action="refund.issued", object_id=str(request.pk)).count() == 1


def test_executing_twice_does_not_call_stripe_again(stripe_fake, finance):
    request = refund_execute(request=_requested(finance), actor=finance)
    again = refund_execute(request=request, actor=finance)
    assert again.status == RefundStatus.SUCCEEDED
    assert len(stripe_fake.requests) == 1 and stripe_fake.created == 1


def test_a_pending_refund_at_stripe_stays_pending(stripe_fake, finance):
    stripe_fake.refund_status = "pending"
    request = refund_execute(request=_requested(finance), actor=finance)
    assert request.status == RefundStatus.PENDING and request.stripe_refund_id


def test_a_timeout_after_stripe_accepted_does_not_refund_twice_on_retry(stripe_fake, finance, settings):
    settings.STRIPE_READ_TIMEOUT = 0.5
    stripe_fake.slow_first = 1.5
    request = refund_execute(request=_requested(finance), actor=finance)
    assert request.status == RefundStatus.PENDING
    assert not request.stripe_refund_id
    assert "may or may not have been made" in request.error
    assert stripe_fake.created == 1  # Stripe made it; we never heard

    retried = refund_execute(request=request, actor=finance)
    assert retried.status == RefundStatus.SUCCEEDED
    assert stripe_fake.created == 1
    assert {r["key"] for r in stripe_fake.requests} == {f"refund-request-{request.pk}"}
    assert Refund.objects.count() == 1
    assert AuditEvent.objects.filter(action="refund.unconfirmed").count() == 1


def test_the_sdk_retries_a_timeout_itself_with_the_same_key(stripe_fake, finance, settings):
    settings.STRIPE_READ_TIMEOUT = 0.5
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    stripe_fake.slow_first = 1.5
    request = refund_execute(request=_requested(finance), actor=finance)
    assert request.status == RefundStatus.SUCCEEDED
    assert len(stripe_fake.requests) >= 2
    assert stripe_fake.created == 1


@pytest.mark.parametrize(
    ("code", "sentence"),
    [
        ("charge_already_refunded", "already refunded in full at Stripe"),
        ("charge_disputed", "disputed"),
        ("balance_insufficient", "balance is too low"),
    ],
)
def test_stripe_refusals_become_plain_sentences_and_nothing_succeeds(stripe_fake, finance, code, sentence):
    request = _requested(finance)
    stripe_fake.errors[request.charge.stripe_id] = code
    result = refund_execute(request=request, actor=finance)
    assert result.status == RefundStatus.FAILED
    assert sentence in result.error
    assert "ch_" not in result.error  # a sentence, not Stripe's raw message
    assert not Refund.objects.exists()
    assert AuditEvent.objects.filter(action="refund.failed").count() == 1
    assert not AuditEvent.objects.filter(action="refund.issued").exists()


def test_a_rejected_api_key_is_a_sentence_naming_the_setting(stripe_fake, finance):
    stripe_fake.fail_auth = True
    result = refund_execute(request=_requested(finance), actor=finance)
    assert result.status == RefundStatus.FAILED
    assert "STRIPE_API_KEY" in result.error
    assert "sk_test" not in result.error


def test_a_stripe_server_error_leaves_the_request_pending_for_a_retry(stripe_fake, finance):
    request = _requested(finance)
    stripe_fake.errors[request.charge.stripe_id] = "api_error"
    result = refund_execute(request=request, actor=finance)
    assert result.status == RefundStatus.PENDING
    assert "retry" in result.error
    del stripe_fake.errors[request.charge.stripe_id]
    assert refund_execute(request=result, actor=finance).status == RefundStatus.SUCCEEDED
    assert stripe_fake.created == 1


def test_without_an_api_key_nothing_is_sent_and_no_failure_is_recorded(settings, finance):
    from billing.services.refunds import RefundError

    settings.STRIPE_API_KEY = ""
    requested = _requested(finance)
    with pytest.raises(RefundError, match="Stripe is not connected"):
        refund_execute(request=requested, actor=finance)
    requested.refresh_from_db()
    assert (requested.status, requested.attempts, requested.error) == (RefundStatus.REQUESTED, 0, "")
    assert not AuditEvent.objects.filter(action="refund.failed").exists()


def test_the_scheduler_resends_an_unconfirmed_refund_without_refunding_twice(stripe_fake, finance, settings):
    from datetime import timedelta

    from django.utils import timezone

    from billing.services.refunds import refunds_resend_unconfirmed
    from billing.tasks import resend_unconfirmed_refunds

    settings.STRIPE_READ_TIMEOUT = 0.5
    stripe_fake.slow_first = 1.5
    request = refund_execute(request=_requested(finance), actor=finance)
    assert request.status == RefundStatus.PENDING and stripe_fake.created == 1
    assert refunds_resend_unconfirmed() == 0  # too fresh: the answer may still be on its way
    assert refunds_resend_unconfirmed(now=timezone.now() + timedelta(days=2)) == 0  # past the key's lifetime
    type(request).objects.filter(pk=request.pk).update(sent_at=timezone.now() - timedelta(minutes=5))
    assert resend_unconfirmed_refunds() == 1
    request.refresh_from_db()
    assert request.status == RefundStatus.SUCCEEDED and stripe_fake.created == 1
    assert AuditEvent.objects.filter(action="refund.issued", source="worker").exists()
