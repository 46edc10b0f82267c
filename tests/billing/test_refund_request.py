"""Asking for a refund: what may be refunded, approval above the threshold, who may approve."""

import pytest

from audit.models import AuditEvent
from billing.models import RefundRequest, RefundStatus
from billing.services.refunds import (
    RefundError,
    refund_approve,
    refund_reject,
    refund_request,
    refundable_amount,
)
from tests.factories import ChargeFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def threshold(settings):
    settings.REFUND_APPROVAL_THRESHOLD = 10000


def _ask(charge, actor, amount, **kw):
    return refund_request(charge=charge, amount=amount, reason="requested_by_customer", note="asked by email",
                          actor=actor, **kw)


def test_a_request_below_the_threshold_is_ready_to_send_and_audited(finance):
    charge = ChargeFactory(amount=4900)
    request = _ask(charge, finance, 1000)
    assert request.status == RefundStatus.REQUESTED
    assert request.idempotency_key == f"refund-request-{request.pk}"
    assert request.currency == "usd"
    entry = AuditEvent.objects.get(action="refund.requested")
    assert entry.actor == finance and entry.customer == charge.customer
    assert entry.changes["amount"] == 1000


def test_it_rejects_a_refund_over_the_refundable_amount(finance):
    charge = ChargeFactory(amount=4900, amount_refunded=4000)
    with pytest.raises(RefundError, match="At most 9.00 USD"):
        _ask(charge, finance, 1000)
    assert not RefundRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="refund.requested").exists()


def test_waiting_requests_count_against_what_is_refundable(finance):
    charge = ChargeFactory(amount=4900)
    _ask(charge, finance, 3000)
    assert refundable_amount(charge=charge) == 1900
    with pytest.raises(RefundError, match="At most 19.00 USD"):
        _ask(charge, finance, 2000)


@pytest.mark.parametrize("amount", [0, -5])
def test_it_rejects_an_amount_that_is_not_positive(finance, amount):
    with pytest.raises(RefundError, match="more than zero"):
        _ask(ChargeFactory(), finance, amount)


def test_it_refuses_another_currency(finance):
    with pytest.raises(RefundError, match="USD"):
        _ask(ChargeFactory(), finance, 100, currency="eur")


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"paid": False, "status": "failed"}, "Only a successful payment"),
        ({"refunded": True, "amount_refunded": 4900}, "already refunded in full"),
        ({"disputed": True}, "disputed"),
    ],
)
def test_it_refuses_charges_that_cannot_be_refunded(finance, fields, sentence):
    with pytest.raises(RefundError, match=sentence):
        _ask(ChargeFactory(**fields), finance, 100)


def test_a_double_submit_returns_the_first_request(finance):
    charge = ChargeFactory()
    first = _ask(charge, finance, 1000, submit_token="tok-1")
    second = _ask(charge, finance, 1000, submit_token="tok-1")
    assert first.pk == second.pk
    assert RefundRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="refund.requested").count() == 1


def test_above_the_threshold_it_waits_for_an_owner(finance, owner):
    request = _ask(ChargeFactory(amount=20000), finance, 15000)
    assert request.status == RefundStatus.AWAITING_APPROVAL and request.needs_approval
    approved = refund_approve(request=request, actor=owner, note="ok, long-time customer")
    assert approved.status == RefundStatus.REQUESTED
    assert approved.approver == owner
    assert AuditEvent.objects.filter(action="refund.approved", actor=owner).exists()


def test_the_requester_cannot_approve_their_own_request(owner):
    request = _ask(ChargeFactory(amount=20000), owner, 15000)
    with pytest.raises(RefundError, match="another owner"):
        refund_approve(request=request, actor=owner, note="")
    request.refresh_from_db()
    assert request.status == RefundStatus.AWAITING_APPROVAL


def test_finance_cannot_approve(finance):
    other = UserFactory(role="finance")
    request = _ask(ChargeFactory(amount=20000), other, 15000)
    with pytest.raises(RefundError, match="Only an owner"):
        refund_approve(request=request, actor=finance, note="")


def test_a_rejection_needs_a_note_and_frees_the_amount(finance, owner):
    charge = ChargeFactory(amount=20000)
    request = _ask(charge, finance, 15000)
    with pytest.raises(RefundError, match="Say why"):
        refund_reject(request=request, actor=owner, note="")
    rejected = refund_reject(request=request, actor=owner, note="refund was made by hand")
    assert rejected.status == RefundStatus.REJECTED
    assert refundable_amount(charge=charge) == 20000
    assert AuditEvent.objects.filter(action="refund.rejected").exists()


def test_a_decided_request_cannot_be_decided_again(finance, owner):
    request = _ask(ChargeFactory(amount=20000), finance, 15000)
    refund_approve(request=request, actor=owner)
    with pytest.raises(RefundError, match="no longer waits"):
        refund_reject(request=request, actor=owner, note="changed my mind")


def test_the_refund_forms_charge_list_reads_every_charges_refundable_amount_at_once(finance, django_assert_num_queries):
    from billing.refund_selectors import refundable_charges

    first = ChargeFactory(amount=4900)
    for _ in range(9):
        ChargeFactory(amount=4900, customer=first.customer)
    _ask(first, finance, 1000)
    with django_assert_num_queries(3):  # the charges, their mirrored refunds, the open requests
        listed = refundable_charges(customer=first.customer)
    assert len(listed) == 10 and dict((c.pk, left) for c, left in listed)[first.pk] == 3900
