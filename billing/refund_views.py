"""Refund screens: choose a charge and amount, confirm, follow the request; the owner's approval queue."""

import secrets

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import Source
from billing import refund_selectors as selectors
from billing.models import RefundRequest, RefundStatus
from billing.stripe_client import stripe_connected
from billing.refund_forms import DecisionForm, RefundConfirmForm, RefundFilterForm, RefundForm
from billing.services.refunds import (
    RefundError,
    refund_approve,
    refund_execute,
    refund_needs_approval,
    refund_reject,
    refund_retry,
    refund_submit,
    refundable_amount,
)
from core.http import redirect_after_post
from core.money import format_money, to_major, to_minor
from customers.models import Customer
from customers.visibility import customer_visible


def get_refund_customer_for(request: HttpRequest, public_id: str) -> Customer:
    if not request.user.has_perm("billing.issue_refund"):
        raise PermissionDenied
    customer = get_object_or_404(Customer.objects.live(), public_id=public_id)
    if not customer_visible(user=request.user, customer=customer):
        raise PermissionDenied
    return customer


def get_refund_request_for(request: HttpRequest, pk: int, *, perm: str = "billing.issue_refund") -> RefundRequest:
    if not request.user.has_perm(perm):
        raise PermissionDenied
    refund = get_object_or_404(
        RefundRequest.objects.select_related("charge", "customer", "requested_by", "approver"), pk=pk
    )
    if refund.customer is not None and not customer_visible(user=request.user, customer=refund.customer):
        raise PermissionDenied
    return refund


@require_http_methods(["GET", "POST"])
def refund_new(request: HttpRequest, public_id: str) -> HttpResponse:
    """Step one: charge, amount, reason. A valid POST shows the confirmation; nothing is written yet."""
    customer = get_refund_customer_for(request, public_id)
    charges = selectors.refundable_charges(customer=customer)
    if not stripe_connected():  # said before anyone fills in a form that could only fail
        context = {"customer": customer, "charges": charges, "not_connected": True}
        return render(request, "billing/refunds/new.html", context, status=200 if request.method == "GET" else 422)
    if request.method == "GET":
        form = RefundForm(customer=customer, initial={"charge": request.GET.get("charge", "")})
        return render(request, "billing/refunds/new.html", {"customer": customer, "form": form, "charges": charges})
    form = RefundForm(request.POST, customer=customer)
    if not form.is_valid():
        context = {"customer": customer, "form": form, "charges": charges}
        return render(request, "billing/refunds/new.html", context, status=422)
    charge = form.cleaned_data["charge"]
    left = refundable_amount(charge=charge)
    amount = form.amount_minor(left)
    if amount is not None and not 0 < amount <= left:
        form.add_error("amount", f"At most {format_money(left, charge.currency)} can still be refunded.")
    if amount is None or form.errors:
        context = {"customer": customer, "form": form, "charges": charges}
        return render(request, "billing/refunds/new.html", context, status=422)
    context = {
        "customer": customer,
        "charge": charge,
        "amount": amount,
        "amount_major": to_major(amount, charge.currency),
        "reason": form.cleaned_data["reason"],
        "reason_label": dict(form.fields["reason"].choices)[form.cleaned_data["reason"]],
        "note": form.cleaned_data["note"],
        "token": secrets.token_urlsafe(24),
        "needs_approval": refund_needs_approval(amount, charge.currency),
    }
    return render(request, "billing/refunds/confirm.html", context)


@require_POST
def refund_confirm(request: HttpRequest, public_id: str) -> HttpResponse:
    """Step two: record the request and send it (or queue it for approval). Submitting twice is harmless."""
    customer = get_refund_customer_for(request, public_id)
    form = RefundConfirmForm(request.POST, customer=customer)
    if not form.is_valid():
        messages.error(request, "The refund form was incomplete or out of date; nothing was refunded. Start again.")
        return redirect_after_post(request, reverse("refund_new", args=[customer.public_id]))
    data = form.cleaned_data
    try:
        refund = refund_submit(
            charge=data["charge"],
            amount=to_minor(data["amount"], data["charge"].currency),
            reason=data["reason"],
            note=data["note"],
            actor=request.user,
            submit_token=data["token"],
            source=Source.UI,
        )
    except RefundError as exc:
        messages.error(request, f"{exc} Nothing was refunded.")
        return redirect_after_post(request, reverse("refund_new", args=[customer.public_id]))
    _announce(request, refund)
    return redirect_after_post(request, reverse("refund_detail", args=[refund.pk]))


def _announce(request: HttpRequest, refund: RefundRequest) -> None:
    amount = format_money(refund.amount, refund.currency)
    if refund.status == RefundStatus.SUCCEEDED:
        messages.success(request, f"Refunded {amount}. Stripe confirmed it.")
    elif refund.status == RefundStatus.AWAITING_APPROVAL:
        messages.info(request, f"The refund of {amount} is above the approval limit and waits for an owner.")
    elif refund.status == RefundStatus.PENDING and refund.stripe_refund_id:
        messages.info(request, f"Stripe accepted the refund of {amount}; it is pending at the bank.")
    elif refund.error:
        messages.error(request, refund.error)


@require_GET
def refund_detail(request: HttpRequest, pk: int) -> HttpResponse:
    refund = get_refund_request_for(request, pk)
    user = request.user
    context = {
        "refund": refund,
        "can_decide": refund.status == RefundStatus.AWAITING_APPROVAL
        and user.has_perm("billing.approve_refund")
        and refund.requested_by_id != user.pk,
        "can_resend": refund.status == RefundStatus.PENDING and not refund.stripe_refund_id,
        # Refused before Stripe made a refund: it can go again once the cause is fixed.
        "can_retry": refund.status == RefundStatus.FAILED and not refund.stripe_refund_id,
        "connected": stripe_connected(),
        "decision_form": DecisionForm(),
    }
    return render(request, "billing/refunds/detail.html", context)


@require_GET
def refund_list(request: HttpRequest) -> HttpResponse:
    """Every refund request this person may see; the owner's approval queue is the "awaiting approval" filter."""
    if not request.user.has_perm("billing.issue_refund"):
        raise PermissionDenied
    form = RefundFilterForm(request.GET)
    status = form.cleaned_data.get("status", "") if form.is_valid() else ""
    context = {
        "form": form,
        "rows": list(selectors.refund_request_list(user=request.user, status=status)[:100]),
        "awaiting": selectors.refund_requests_awaiting(user=request.user).count(),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "billing/refunds/list.html#results", context)
    return render(request, "billing/refunds/list.html", context)


@require_POST
def refund_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send again a refund whose outcome is unknown (timeout); Stripe answers with the same refund."""
    return _send(request, pk, refund_execute)


@require_POST
def refund_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Send again a refund Stripe refused before making one, now that its cause is fixed."""
    return _send(request, pk, refund_retry)


def _send(request: HttpRequest, pk: int, send) -> HttpResponse:
    """Send a refund through ``send`` (execute or retry), say how it went, and go back to it."""
    refund = get_refund_request_for(request, pk)
    try:
        refund = send(request=refund, actor=request.user, source=Source.UI)
    except RefundError as exc:
        messages.error(request, str(exc))
    else:
        _announce(request, refund)
    return redirect_after_post(request, reverse("refund_detail", args=[refund.pk]))


@require_POST
def refund_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    refund = get_refund_request_for(request, pk, perm="billing.approve_refund")
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        refund = refund_approve(request=refund, actor=request.user, note=note, source=Source.UI)
        refund = refund_execute(request=refund, actor=request.user, source=Source.UI)
    except RefundError as exc:
        messages.error(request, str(exc))
    else:
        _announce(request, refund)
    return redirect_after_post(request, reverse("refund_detail", args=[refund.pk]))


@require_POST
def refund_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    refund = get_refund_request_for(request, pk, perm="billing.approve_refund")
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        refund_reject(request=refund, actor=request.user, note=note, source=Source.UI)
    except RefundError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Refund rejected; the requester sees your note.")
    return redirect_after_post(request, reverse("refund_detail", args=[refund.pk]))
