"""Subscription actions from the customer 360: the action's inputs, a confirmation page that says what
changes and what it costs, the request's page (state, send again, the owner's decision)."""

import secrets
from datetime import datetime
from datetime import timezone as tz

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.models import Source
from billing import stripe_client
from billing.models import Subscription, SubscriptionChange
from billing.models import SubscriptionChangeKind as Kind
from billing.models import SubscriptionChangeStatus as Status
from billing.services.subscriptions import (
    SubscriptionChangeError,
    subscription_change_approve,
    subscription_change_check,
    subscription_change_execute,
    subscription_change_needs_approval,
    subscription_change_reject,
    subscription_change_submit,
)
from billing.subscription_forms import FIELDS, DecisionForm, SubscriptionChangeForm, SubscriptionConfirmForm
from billing.subscription_terms import consequences, prorated_refund, single_item_id
from core.http import redirect_after_post
from customers.models import Customer
from customers.visibility import customer_visible

PERM = "billing.manage_subscription"


def get_subscription_for(request: HttpRequest, pk: int, kind: str) -> Subscription:
    if not request.user.has_perm(PERM):
        raise PermissionDenied
    if kind not in Kind.values:
        raise Http404
    sub = get_object_or_404(Subscription.objects.select_related("customer"), pk=pk, customer__isnull=False)
    if sub.customer.merged_into_id or not customer_visible(user=request.user, customer=sub.customer):
        raise PermissionDenied
    return sub


def get_change_for(request: HttpRequest, pk: int, *, perm: str = PERM) -> SubscriptionChange:
    if not request.user.has_perm(perm):
        raise PermissionDenied
    change = get_object_or_404(
        SubscriptionChange.objects.select_related("subscription", "customer", "requested_by", "approver",
                                                  "refund_request"), pk=pk)
    if change.customer is not None and not customer_visible(user=request.user, customer=change.customer):
        raise PermissionDenied
    return change


def _base(sub: Subscription, kind: str) -> dict:
    customer: Customer = sub.customer
    return {"sub": sub, "customer": customer, "kind": kind, "kind_label": Kind(kind).label}


def _preview(sub: Subscription, price_id: str, proration_date: int) -> stripe_client.ProrationPreview:
    return stripe_client.subscription_change_preview(
        customer_id=sub.stripe_customer_id, subscription_id=sub.stripe_id, item_id=single_item_id(sub),
        price_id=price_id, proration_date=proration_date,
    )


def _confirmation(request: HttpRequest, sub: Subscription, kind: str, form: SubscriptionChangeForm) -> HttpResponse:
    """The page that repeats customer, subscription, what will change and the money consequence."""
    terms = form.terms()
    context = {**_base(sub, kind), "form": form, "token": secrets.token_urlsafe(24), "note": terms["note"]}
    try:  # what the service would refuse is said here, before the confirmation
        subscription_change_check(sub, kind, price_id=terms.get("price_id", ""), resumes_at=terms.get("resumes_at"),
                                  trial_end=terms.get("trial_end"), pause_behavior=terms.get("pause_behavior", ""))
    except SubscriptionChangeError as exc:
        context.update(error=str(exc), form=None)
        return render(request, "billing/subscription_change_new.html", context, status=422)
    refund, preview, proration_date = (None, 0), None, None
    if kind == Kind.CANCEL_NOW and terms.get("with_refund"):
        refund = prorated_refund(sub)
    if kind == Kind.CHANGE_PLAN:
        proration_date = int(datetime.now(tz.utc).timestamp())
        try:
            preview = _preview(sub, terms["price_id"], proration_date)
        except stripe_client.StripeCallError as exc:
            context.update(error=f"Stripe could not preview this change: {exc}")
            return render(request, "billing/subscription_change_new.html", context, status=422)
    what, money = consequences(
        sub, kind, refund=refund, preview=preview, price_label=terms.get("price_label", ""),
        resumes_at=terms.get("resumes_at"), pause_behavior=terms.get("pause_behavior", ""),
        trial_end=terms.get("trial_end"),
    )
    moved = refund[1] or (preview.due_now if preview else 0)
    context.update(
        what=what, money=money, proration_date=proration_date, preview=preview,
        needs_approval=subscription_change_needs_approval(amount=moved, currency=sub.currency),
        hidden=[(name, form.data.get(name, "")) for name in (*FIELDS.get(kind, ()), "note")],
    )
    return render(request, "billing/subscription_change_confirm.html", context)


@require_http_methods(["GET", "POST"])
def subscription_change_new(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Step one: the action's inputs (or, for an action without any, its confirmation at once)."""
    sub = get_subscription_for(request, pk, kind)
    context = _base(sub, kind)
    if not stripe_client.stripe_connected():  # said before anyone fills in a form that could only fail
        context["not_connected"] = True
        return render(request, "billing/subscription_change_new.html", context,
                      status=200 if request.method == "GET" else 422)
    if request.method == "GET":
        form = SubscriptionChangeForm(subscription=sub, kind=kind)
        if not FIELDS.get(kind):
            form = SubscriptionChangeForm({}, subscription=sub, kind=kind)
            form.is_valid()
            return _confirmation(request, sub, kind, form)
        return render(request, "billing/subscription_change_new.html", {**context, "form": form})
    form = SubscriptionChangeForm(request.POST, subscription=sub, kind=kind)
    if not form.is_valid():
        return render(request, "billing/subscription_change_new.html", {**context, "form": form}, status=422)
    return _confirmation(request, sub, kind, form)


@require_POST
def subscription_change_confirm(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Step two: record the request and send it (or queue it for approval). Submitting twice is harmless."""
    sub = get_subscription_for(request, pk, kind)
    back = reverse("subscription_change_new", args=[sub.pk, kind])
    form = SubscriptionConfirmForm(request.POST, subscription=sub, kind=kind)
    if not form.is_valid():
        messages.error(request, "The form was incomplete or out of date; nothing was changed. Start again.")
        return redirect_after_post(request, back)
    terms = form.terms()
    try:
        if kind == Kind.CHANGE_PLAN:
            # Stripe's arithmetic again, for the moment shown: what needs approval is Stripe's figure, not the form's.
            proration_date = form.cleaned_data["proration_date"]
            try:
                terms.update(preview=_preview(sub, terms["price_id"], proration_date),
                             proration_date=datetime.fromtimestamp(proration_date, tz=tz.utc))
            except stripe_client.StripeCallError as exc:
                raise SubscriptionChangeError(str(exc)) from None
        change = subscription_change_submit(
            subscription=sub, kind=kind, actor=request.user, submit_token=form.cleaned_data["token"],
            source=Source.UI, **terms,
        )
    except SubscriptionChangeError as exc:
        messages.error(request, f"{exc} Nothing was changed.")
        return redirect_after_post(request, back)
    _announce(request, change)
    return redirect_after_post(request, reverse("customer_detail", args=[sub.customer.public_id]) + "#subscriptions")


def _announce(request: HttpRequest, change: SubscriptionChange) -> None:
    label = change.get_kind_display()
    if change.status == Status.AWAITING_APPROVAL:
        messages.info(request, f"{label}: above the approval limit, it waits for an owner.")
    elif change.status == Status.CONFIRMED:
        messages.success(request, f"{label}: confirmed by Stripe.")
    elif change.status == Status.SENT and change.answered:
        messages.success(request, f"{label}: Stripe accepted it; the 360 updates when Stripe's webhook arrives.")
    elif change.error:
        messages.error(request, f"{label}: {change.error}")


@require_GET
def subscription_change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_change_for(request, pk)
    user = request.user
    context = {
        "change": change,
        "can_decide": change.status == Status.AWAITING_APPROVAL and user.has_perm("billing.approve_refund")
        and change.requested_by_id != user.pk,
        "can_resend": change.status == Status.SENT and not change.answered,
        # Stripe confirmed a cancellation whose API reply never came: its refund is still to be made.
        "can_refund": change.kind == Kind.CANCEL_NOW and change.refund_amount > 0 and change.refund_request_id is None
        and change.status == Status.CONFIRMED,
        "connected": stripe_client.stripe_connected(),
        "decision_form": DecisionForm(),
    }
    return render(request, "billing/subscription_change_detail.html", context)


def _back_to(request: HttpRequest, change: SubscriptionChange) -> HttpResponse:
    return redirect_after_post(request, reverse("subscription_change_detail", args=[change.pk]))


@require_POST
def subscription_change_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send again a change whose outcome is unknown (timeout); Stripe answers with the same change."""
    change = get_change_for(request, pk)
    try:
        change = subscription_change_execute(change=change, actor=request.user, source=Source.UI)
    except SubscriptionChangeError as exc:
        messages.error(request, str(exc))
    else:
        _announce(request, change)
    return _back_to(request, change)


@require_POST
def subscription_change_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_change_for(request, pk, perm="billing.approve_refund")
    if not request.user.has_perm(PERM):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        change = subscription_change_approve(change=change, actor=request.user, note=note, source=Source.UI)
    except SubscriptionChangeError as exc:
        messages.error(request, str(exc))
    else:
        _announce(request, change)
    return _back_to(request, change)


@require_POST
def subscription_change_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_change_for(request, pk, perm="billing.approve_refund")
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        subscription_change_reject(change=change, actor=request.user, note=note, source=Source.UI)
    except SubscriptionChangeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Change rejected; the requester sees your note.")
    return _back_to(request, change)
