"""Reads for the refund screens."""

from django.db.models import QuerySet

from billing.models import Charge, RefundRequest, RefundStatus
from billing.services.refunds import refundable_amounts
from customers.visibility import visible_through_customer


def refund_requests_visible_to(*, user) -> QuerySet[RefundRequest]:
    return visible_through_customer(RefundRequest.objects.all(), user=user)


def refund_request_list(*, user, status: str = "") -> QuerySet[RefundRequest]:
    qs = refund_requests_visible_to(user=user)
    if status:
        qs = qs.filter(status=status)
    return qs.select_related("charge", "customer", "requested_by", "approver").order_by("-created_at", "-id")


def refund_requests_awaiting(*, user) -> QuerySet[RefundRequest]:
    return refund_request_list(user=user, status=RefundStatus.AWAITING_APPROVAL)


def charges_refundable_for(*, customer) -> QuerySet[Charge]:
    """The charges the refund form lists and accepts: paid and not yet refunded in full."""
    return Charge.objects.filter(customer=customer, paid=True, status="succeeded", refunded=False).order_by(
        "-stripe_created", "-id"
    )


def refundable_charges(*, customer) -> list[tuple[Charge, int]]:
    """The customer's paid charges with what is still refundable on each."""
    charges = list(charges_refundable_for(customer=customer)[:20])
    left = refundable_amounts(charges=charges)
    return [(c, left[c.pk]) for c in charges]
