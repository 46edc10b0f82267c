"""Open disputes (Stripe still waits for evidence or a decision): the queue and support's ticket tags read one rule."""

import pytest

from billing.models import Dispute
from customers.models import Customer
from support.services import billing_states
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

STRIPE_STATUSES = ["warning_needs_response", "warning_under_review", "warning_closed", "needs_response",
                   "under_review", "won", "lost", "prevented"]


def _dispute(status: str, customer: Customer | None = None) -> Dispute:
    return Dispute.objects.create(stripe_id=f"dp_{status}_{customer.pk if customer else 0}", status=status,
                                  customer=customer)


def test_open_disputes_are_the_ones_awaiting_evidence_or_a_decision():
    for status in STRIPE_STATUSES:
        _dispute(status)
    assert set(Dispute.objects.open().values_list("status", flat=True)) == {
        "warning_needs_response", "needs_response", "warning_under_review", "under_review"}


def test_a_ticket_is_tagged_while_its_customers_dispute_is_open():
    customer = CustomerFactory()
    dispute = _dispute("won", customer)
    assert "dispute-open" not in billing_states(customer)
    Dispute.objects.filter(pk=dispute.pk).update(status="needs_response")
    assert "dispute-open" in billing_states(customer)
