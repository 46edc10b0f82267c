"""Subscription changes: asked for by finance or an owner, approved by an owner above a threshold, made at
Stripe exactly once, confirmed by Stripe's webhook.

A change moves requested -> sent -> confirmed / failed, or first through awaiting_approval
(-> rejected). Stripe is called once per change with an idempotency key derived from the row, so
a double submit, a second worker or a retry after a timeout is always the same change. Nothing
here writes the Subscription mirror: the ``customer.subscription.*`` event that follows is
applied by the ordinary event processing, exactly as a change made in Stripe's dashboard, and
the billing consumer ``subscription_changes_confirm`` marks the request confirmed.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Source
from audit.services import audit_record
from billing import stripe_client
from billing.consumers import BillingChange
from billing.errors import BillingError
from billing.models import Charge, RefundStatus, Subscription, SubscriptionChange
from billing.models import SubscriptionChangeKind as Kind
from billing.models import SubscriptionChangeStatus as Status
from billing.services import refunds
from billing.services.approvals import decision_note, decision_write
from billing.subscription_terms import (
    LIVE_STATUSES,
    PAUSE_BEHAVIORS,
    change_summary,
    is_paused,
    prorated_refund,
    reflected,
    stripe_params,
)
from core.batch import batch_read

NOT_CONNECTED = "Stripe is not connected: subscription changes need STRIPE_API_KEY (see .env.example)."


class SubscriptionChangeError(BillingError):
    """A subscription change that cannot be asked for, approved or sent, in a sentence."""


def subscription_change_check(sub: Subscription, kind: str, *, price_id: str = "", resumes_at=None, trial_end=None,
                              pause_behavior: str = "") -> None:
    """Raise the sentence saying why ``kind`` cannot be done to ``sub`` as last mirrored (before any form too)."""
    if sub.deleted or sub.status not in LIVE_STATUSES:
        raise SubscriptionChangeError(f"This subscription is {sub.status or 'unknown'}; it can no longer be changed.")
    now = timezone.now()
    if kind == Kind.CANCEL_AT_PERIOD_END and sub.cancel_at_period_end:
        raise SubscriptionChangeError("This subscription already cancels at the end of its period.")
    if kind == Kind.UNDO_CANCEL and not sub.cancel_at_period_end:
        raise SubscriptionChangeError("This subscription has no pending cancellation to undo.")
    if kind == Kind.CHANGE_PLAN:
        if not price_id:
            raise SubscriptionChangeError("Choose the new price.")
        if price_id == sub.price_id:
            raise SubscriptionChangeError("That is already the subscription's price.")
    if kind == Kind.PAUSE_COLLECTION:
        if is_paused(sub):
            raise SubscriptionChangeError("Collection is already paused on this subscription.")
        if pause_behavior not in PAUSE_BEHAVIORS:
            raise SubscriptionChangeError("Choose what happens to the invoices during the pause.")
        if resumes_at is None or resumes_at <= now:
            raise SubscriptionChangeError("The resume date must be in the future.")
    if kind == Kind.RESUME_COLLECTION and not is_paused(sub):
        raise SubscriptionChangeError("Collection is not paused on this subscription.")
    if kind == Kind.EXTEND_TRIAL:
        if sub.status != "trialing" or sub.trial_end is None:
            raise SubscriptionChangeError("Only a subscription in its trial can have the trial extended.")
        if trial_end is None or trial_end <= sub.trial_end:
            raise SubscriptionChangeError("The new trial end must be after the current one.")


def subscription_change_needs_approval(*, amount: int, currency: str) -> bool:
    """Money moved by a change (a prorated refund, a proration charged at once) above the refunds' limit."""
    return abs(amount) > refunds.approval_threshold(currency)


def subscription_change_request(
    *,
    subscription: Subscription,
    kind: str,
    actor,
    submit_token: str,
    price_id: str = "",
    price_label: str = "",
    preview: stripe_client.ProrationPreview | None = None,
    proration_date: datetime | None = None,
    pause_behavior: str = "",
    resumes_at: datetime | None = None,
    trial_end: datetime | None = None,
    with_refund: bool = False,
    note: str = "",
    source: str = Source.UI,
) -> SubscriptionChange:
    """Record a request to change ``subscription``. A second call with the same ``submit_token`` returns the
    first request instead of making another."""
    if kind not in Kind.values:
        raise SubscriptionChangeError("Choose one of the subscription actions.")
    note = (note or "").strip()[:500]
    with transaction.atomic():
        sub = Subscription.objects.select_for_update(of=("self",)).select_related("customer").get(pk=subscription.pk)
        existing = SubscriptionChange.objects.filter(submit_token=submit_token).first()
        if existing is not None:
            return existing
        waiting = SubscriptionChange.objects.filter(subscription=sub, status__in=SubscriptionChange.OPEN).first()
        if waiting is not None:
            raise SubscriptionChangeError(
                f"This subscription already has a change in progress ({waiting.get_kind_display().lower()}, "
                f"{waiting.get_status_display().lower()}); wait for Stripe to confirm it."
            )
        subscription_change_check(sub, kind, price_id=price_id, resumes_at=resumes_at, trial_end=trial_end,
                                  pause_behavior=pause_behavior)
        charge, refund_amount = prorated_refund(sub) if (kind == Kind.CANCEL_NOW and with_refund) else (None, 0)
        if kind == Kind.CANCEL_NOW and with_refund and not refund_amount:
            raise SubscriptionChangeError("There is no payment on this subscription left to refund.")
        money = refund_amount or (preview.due_now if preview else 0)
        needs_approval = subscription_change_needs_approval(amount=money, currency=sub.currency)
        try:
            with transaction.atomic():
                change = SubscriptionChange.objects.create(
                    subscription=sub, customer=sub.customer, kind=kind, requested_by=actor, note=note,
                    status=Status.AWAITING_APPROVAL if needs_approval else Status.REQUESTED,
                    needs_approval=needs_approval, submit_token=submit_token, currency=sub.currency,
                    price_id=price_id if kind == Kind.CHANGE_PLAN else "", price_label=price_label[:200],
                    proration_date=proration_date, due_now=preview.due_now if preview else None,
                    next_invoice=preview.next_invoice if preview else None,
                    pause_behavior=pause_behavior if kind == Kind.PAUSE_COLLECTION else "",
                    resumes_at=resumes_at if kind == Kind.PAUSE_COLLECTION else None,
                    trial_end=trial_end if kind == Kind.EXTEND_TRIAL else None,
                    refund_amount=refund_amount, refund_charge=charge,
                )
        except IntegrityError:
            existing = SubscriptionChange.objects.filter(submit_token=submit_token).first()
            if existing is None:
                raise
            return existing
        change.idempotency_key = f"subscription-change-{change.pk}"
        change.save(update_fields=["idempotency_key"])
        audit_record(
            action="subscription_change.requested", source=source, actor=actor, customer=sub.customer,
            target=change,
            summary=f"{change_summary(change)} requested" + (" (needs an owner's approval)" if needs_approval else ""),
            changes={"subscription": sub.stripe_id, "kind": kind, "price_id": change.price_id,
                     "refund_amount": refund_amount, "needs_approval": needs_approval, "note": note},
        )
    return change


def _decide(*, change: SubscriptionChange, actor, note: str, approve: bool, source: str) -> SubscriptionChange:
    note = decision_note(actor=actor, note=note, approve=approve, subject="a subscription change", what="change",
                         error=SubscriptionChangeError)
    with transaction.atomic():
        locked = SubscriptionChange.objects.select_for_update(of=("self",)).select_related("subscription").get(
            pk=change.pk)
        decision_write(locked, actor=actor, note=note, approve=approve, what="change", error=SubscriptionChangeError,
                       waiting=Status.AWAITING_APPROVAL, approved=Status.REQUESTED, rejected=Status.REJECTED)
        locked.save()
        verb = "approved" if approve else "rejected"
        audit_record(
            action=f"subscription_change.{verb}", source=source, actor=actor, customer=locked.customer,
            target=locked, summary=f"{change_summary(locked)} {verb}" + (f": {note}" if note else ""),
            changes={"status": [Status.AWAITING_APPROVAL, locked.status], "note": note},
        )
    return locked


def subscription_change_approve(*, change: SubscriptionChange, actor, note: str = "",
                                source: str = Source.UI) -> SubscriptionChange:
    """An owner other than the requester lets the change go ahead, and it is sent at once."""
    if not stripe_client.stripe_connected():
        raise SubscriptionChangeError(NOT_CONNECTED)
    approved = _decide(change=change, actor=actor, note=note, approve=True, source=source)
    return subscription_change_execute(change=approved, actor=actor, source=source)


def subscription_change_reject(*, change: SubscriptionChange, actor, note: str,
                               source: str = Source.UI) -> SubscriptionChange:
    return _decide(change=change, actor=actor, note=note, approve=False, source=source)


def _claim(change: SubscriptionChange, *, actor, source: str) -> SubscriptionChange | None:
    """Move the change to sent for this attempt; None when there is nothing (more) to send."""
    with transaction.atomic():
        locked = SubscriptionChange.objects.select_for_update(of=("self",)).select_related(
            "subscription", "customer").get(pk=change.pk)
        if locked.status == Status.AWAITING_APPROVAL:
            raise SubscriptionChangeError("This change waits for an owner's approval.")
        if not (locked.status == Status.REQUESTED or (locked.status == Status.SENT and not locked.answered)):
            return None
        before = locked.status
        locked.status, locked.sent_at = Status.SENT, timezone.now()
        locked.attempts += 1
        locked.save(update_fields=["status", "attempts", "sent_at", "updated_at"])
        if before == Status.REQUESTED:
            audit_record(
                action="subscription_change.sent", source=source, actor=actor, customer=locked.customer,
                target=locked,
                summary=f"{change_summary(locked)} sent to Stripe",
                changes={"status": [before, Status.SENT], "attempt": locked.attempts},
            )
    return locked


def _call_stripe(change: SubscriptionChange) -> dict:
    sub = change.subscription
    if change.kind == Kind.CANCEL_NOW:
        return stripe_client.subscription_cancel(subscription_id=sub.stripe_id,
                                                 idempotency_key=change.idempotency_key)
    return stripe_client.subscription_update(
        subscription_id=sub.stripe_id, params=stripe_params(change), idempotency_key=change.idempotency_key
    )


def subscription_change_execute(*, change: SubscriptionChange, actor=None,
                                source: str = Source.UI) -> SubscriptionChange:
    """Send the change to Stripe. Safe to call again: same change, same idempotency key, one change.

    Stripe's refusal marks the change failed with a sentence; an unknown outcome (timeout, 5xx)
    leaves it sent with the sentence, ready to be sent again.
    """
    if not stripe_client.stripe_connected():
        raise SubscriptionChangeError(NOT_CONNECTED)
    claimed = _claim(change, actor=actor, source=source)
    if claimed is None:
        current = SubscriptionChange.objects.select_related("subscription", "customer").get(pk=change.pk)
        return _refund_after_cancel(current, actor=actor, source=source)
    try:
        _call_stripe(claimed)
    except stripe_client.StripeCallError as exc:
        return _record_error(claimed, exc, actor=actor, source=source)
    with transaction.atomic():
        locked = SubscriptionChange.objects.select_for_update().get(pk=claimed.pk)
        locked.answered, locked.error = True, ""
        locked.save(update_fields=["answered", "error", "updated_at"])
        audit_record(
            action="subscription_change.accepted", source=source, actor=actor, customer=locked.customer,
            target=locked, summary=f"Stripe accepted: {change_summary(claimed)}; waiting for its webhook",
            changes={"status": locked.status, "attempt": locked.attempts},
        )
    return _refund_after_cancel(locked, actor=actor, source=source)


def _record_error(change: SubscriptionChange, exc: stripe_client.StripeCallError, *, actor,
                  source: str) -> SubscriptionChange:
    with transaction.atomic():
        locked = SubscriptionChange.objects.select_for_update().get(pk=change.pk)
        if locked.status != Status.SENT or locked.answered:
            return locked  # the webhook told us the outcome meanwhile
        locked.error = str(exc)[:300]
        if exc.definite:
            locked.status, locked.finished_at = Status.FAILED, timezone.now()
        locked.save(update_fields=["status", "error", "finished_at", "updated_at"])
        audit_record(
            action="subscription_change.failed" if exc.definite else "subscription_change.unconfirmed",
            source=source, actor=actor, customer=locked.customer, target=locked,
            summary=f"{change_summary(change)}: {locked.error}"[:300],
            changes={"status": [Status.SENT, locked.status], "error": exc.code, "attempt": locked.attempts},
        )
    return locked


def _refund_after_cancel(change: SubscriptionChange, *, actor, source: str) -> SubscriptionChange:
    """Once Stripe has the cancellation, its prorated refund goes through the refund flow: requested by
    whoever asked for the cancellation, approved by the owner who approved it (above the limit)."""
    if change.kind != Kind.CANCEL_NOW or not change.refund_amount or change.refund_charge_id is None:
        return change
    if not (change.answered or change.status == Status.CONFIRMED) or change.refund_request_id:
        return change
    try:
        request = refunds.refund_request(
            charge=Charge.objects.get(pk=change.refund_charge_id), amount=change.refund_amount,
            reason="requested_by_customer", note=f"Prorated refund on cancelling {change.subscription.stripe_id}",
            actor=change.requested_by, submit_token=f"subscription-change-{change.pk}", source=source,
        )
    except refunds.RefundError as exc:
        SubscriptionChange.objects.filter(pk=change.pk).update(error=f"The refund was not made: {exc}"[:300])
        change.refresh_from_db()
        return change
    SubscriptionChange.objects.filter(pk=change.pk).update(refund_request=request)
    change.refresh_from_db()
    try:
        if request.status == RefundStatus.AWAITING_APPROVAL and change.approver is not None:
            request = refunds.refund_approve(request=request, actor=change.approver,
                                             note=f"Approved with subscription-change-{change.pk}", source=source)
        if request.status == RefundStatus.REQUESTED:
            refunds.refund_execute(request=request, actor=actor, source=source)
    except refunds.RefundError as exc:
        SubscriptionChange.objects.filter(pk=change.pk).update(error=f"The refund was not made: {exc}"[:300])
        change.refresh_from_db()
    return change


def subscription_change_submit(*, subscription: Subscription, kind: str, actor, submit_token: str,
                               source: str = Source.UI, **terms) -> SubscriptionChange:
    """Request a change and, when it needs no approval, send it at once. A second submit of the same
    confirmation (same token) returns the first request and sends nothing. Without a Stripe key nothing
    is recorded: the request could only fail."""
    if not stripe_client.stripe_connected():
        raise SubscriptionChangeError(NOT_CONNECTED)
    change = subscription_change_request(
        subscription=subscription, kind=kind, actor=actor, submit_token=submit_token, source=source, **terms
    )
    if change.status == Status.REQUESTED and change.attempts == 0:
        change = subscription_change_execute(change=change, actor=actor, source=source)
    return change


def subscription_changes_confirm(*, change: BillingChange) -> None:
    """Billing consumer: the subscription event that follows a change we sent confirms it (inside the
    event's transaction, after the mirror and the customer's status were applied by the event itself)."""
    if not change.event_type.startswith("customer.subscription."):
        return
    obj = (change.source_event.payload.get("data") or {}).get("object") or {}
    if not obj.get("id"):
        return  # not a subscription's own payload: nothing of ours to confirm
    # Once per batch of events: a change is marked sent (committed) before Stripe is asked, so
    # before its answer's event is stored, and a batch holds only events stored before it began.
    if not batch_read("billing.subscription_changes_sent", _any_change_sent):
        return
    sent = SubscriptionChange.objects.select_for_update().filter(
        subscription__stripe_id=obj.get("id"), status=Status.SENT
    )
    for request in sent:
        if request.sent_at and change.source_event.created < request.sent_at.replace(microsecond=0):
            continue  # an event from before we asked: not Stripe's answer
        if not reflected(request, obj, change.event_type):
            continue
        request.status, request.error = Status.CONFIRMED, ""
        request.confirmed_at = request.finished_at = timezone.now()
        request.confirmed_event_id = change.source_event.stripe_id
        request.save(update_fields=["status", "error", "confirmed_at", "finished_at", "confirmed_event_id",
                                    "updated_at"])
        audit_record(
            action="subscription_change.confirmed", source=Source.WEBHOOK, customer=change.customer,
            target=request, summary=f"Stripe confirms: {change_summary(request)}",
            changes={"status": [Status.SENT, Status.CONFIRMED], "event": change.source_event.stripe_id},
        )


def _any_change_sent() -> bool:
    return SubscriptionChange.objects.filter(status=Status.SENT).exists()


# Stripe keeps idempotency keys for at least 24 hours; past that a resend could be a second change.
RESEND_WINDOW = timedelta(hours=23)
RESEND_AFTER = timedelta(minutes=2)


def subscription_changes_resend_unanswered(*, now=None, limit: int = 50) -> int:
    """Send again, under the same key, the changes whose API reply never came (a timeout, a process that
    died mid-call) and that no webhook has confirmed. Older than the key's lifetime they are left to a person."""
    now = now or timezone.now()
    if not stripe_client.stripe_connected():
        return 0
    due = SubscriptionChange.objects.filter(
        status=Status.SENT, answered=False, sent_at__lt=now - RESEND_AFTER, sent_at__gt=now - RESEND_WINDOW,
    ).order_by("sent_at")[:limit]
    for change in due:
        subscription_change_execute(change=change, source=Source.WORKER)
    return len(due)
