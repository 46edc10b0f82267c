"""Billing's part of the queue: failed payments, open disputes, events that failed (replay), refunds to approve."""

from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, one_group, open_items, page_of
from billing.models import Dispute, EventStatus, Invoice, RefundRequest, RefundStatus, StripeEvent
from billing.services import BillingError, event_replay
from core.money import format_money

def failed_payment_group(ctx: QueueContext, invoices, *, kind: str, title: str, why=None) -> list[ActionGroup]:
    """One group of failed payments from ``invoices``; ``why(invoice)`` is the reason shown (by default,
    the attempts). Support's "failed payments with an open ticket" is this group over its own invoices."""
    qs = open_items(
        invoices,
        kind=kind,
        # Since Stripe's latest declined attempt (the newest event applied to the invoice), not since
        # the row was written: history that arrives late is days old.
        since=Coalesce("last_event_created", "updated_at"),
        ctx=ctx,
    )
    count, rows = page_of(qs, ctx, shown=("customer_id", "amount_due", "currency", "number", "stripe_id", "attempt_count"))
    items = [
        ActionItem(
            kind=kind,
            object_id=str(inv.pk),
            what=f"Payment failed: {format_money(inv.amount_due, inv.currency)}",
            reason=(why or _attempts)(inv),
            since=inv.q_since,
            customer_id=inv.customer_id,
            url_label="Open customer",
            opens_customer=True,
            actions=("assign", "resolve"),
        )
        for inv in rows
    ]
    return one_group(kind, title, count, items)


def _attempts(inv: Invoice) -> str:
    return f"Invoice {inv.number or inv.stripe_id}, {inv.attempt_count} attempt{'s' if inv.attempt_count != 1 else ''}"


def failed_payment_items(ctx: QueueContext) -> list[ActionGroup]:
    """Invoices whose latest payment failed and that nobody has followed up yet."""
    return failed_payment_group(
        ctx, Invoice.objects.filter(payment_failed=True, status="open", customer__isnull=False),
        kind="failed_payment", title="Failed payments without follow-up",
    )


def dispute_group(ctx: QueueContext, disputes, *, kind: str, title: str, why=None) -> list[ActionGroup]:
    """One group of open disputes from ``disputes``; ``why(dispute)`` is the reason shown (by default,
    Stripe's reason and when evidence is due)."""
    qs = open_items(disputes, kind=kind, since=Coalesce("stripe_created", "created_at"), ctx=ctx)
    count, rows = page_of(qs, ctx, shown=("customer_id", "status", "amount", "currency", "reason", "evidence_due_by"))
    items = [
        ActionItem(
            kind=kind,
            object_id=str(d.pk),
            what=f"Dispute {d.status.replace('_', ' ')}: {format_money(d.amount, d.currency)}",
            reason=(why or _evidence_due)(d),
            since=d.q_since,
            customer_id=d.customer_id,
            url_label="Open customer",
            opens_customer=True,
            actions=("assign", "resolve"),
        )
        for d in rows
    ]
    return one_group(kind, title, count, items)


def _evidence_due(d: Dispute) -> str:
    due = f"; evidence due {timezone.localtime(d.evidence_due_by):%d %b %H:%M}" if d.evidence_due_by else ""
    return f"{d.reason.replace('_', ' ') or 'No reason given'}{due}"


def dispute_items(ctx: QueueContext) -> list[ActionGroup]:
    """Disputes Stripe still holds open."""
    return dispute_group(ctx, Dispute.objects.open(), kind="dispute", title="Open disputes")


def failed_event_items(ctx: QueueContext) -> list[ActionGroup]:
    """Stripe events we stored but could not apply."""
    qs = open_items(
        StripeEvent.objects.filter(status=EventStatus.FAILED),
        kind="failed_event",
        since=F("received_at"),
        changed=Coalesce("next_attempt_at", "received_at"),
        ctx=ctx,
    )
    count, rows = page_of(qs, ctx, shown=("customer_id", "type", "last_error", "error_class"))
    items = [
        ActionItem(
            kind="failed_event",
            object_id=str(e.pk),
            what=f"Stripe {e.type} could not be applied",
            reason=e.last_error or e.error_class or "Processing failed",
            since=e.q_since,
            customer_id=e.customer_id,
            url=ctx.url("event_detail", e.pk),
            url_label="Event",
            actions=("replay", "assign", "resolve"),
        )
        for e in rows
    ]
    return one_group("failed_event", "Webhook events that failed", count, items,
                     more_url=ctx.url("event_list") + "?status=failed", more_label="see all failed events")


def refund_approval_items(ctx: QueueContext) -> list[ActionGroup]:
    """Refunds above the approval limit, waiting for an owner other than the one who asked."""
    qs = open_items(
        RefundRequest.objects.filter(status=RefundStatus.AWAITING_APPROVAL).exclude(requested_by=ctx.user),
        kind="refund_approval",
        since=F("created_at"),
        ctx=ctx,
    ).select_related("requested_by")
    count, rows = page_of(qs, ctx, shown=("customer_id", "amount", "currency", "reason", "note", "requested_by__email"))
    items = [
        ActionItem(
            kind="refund_approval",
            object_id=str(r.pk),
            what=f"Refund of {format_money(r.amount, r.currency)} waits for your approval",
            reason=f"{r.get_reason_display()}, asked by {r.requested_by.email if r.requested_by else 'someone'}"
            + (f": {r.note}" if r.note else ""),
            since=r.q_since,
            customer_id=r.customer_id,
            url=ctx.url("refund_detail", r.pk),
            url_label="Decide",
            actions=("assign",),
        )
        for r in rows
    ]
    return one_group("refund_approval", "Refunds waiting for approval", count, items)


def _replay(*, item: ActionItem, actor, source: str) -> registry.Outcome:
    try:
        outcome = event_replay(event=StripeEvent.objects.get(pk=item.object_id), actor=actor, source=source)
    except BillingError as exc:
        return registry.Outcome(error=str(exc))
    if outcome == "failed":
        return registry.Outcome(error="Replayed, and it failed again; see the event's error.")
    return registry.Outcome(done=f"Replayed: {outcome}.")


def last_event_received_at():
    # newest row by primary key (received_at is set on insert): an index read, not a sort of every event
    return StripeEvent.objects.order_by("-pk").values_list("received_at", flat=True).first()


def _may(perm: str):
    return lambda user: user.has_perm(perm)


def register() -> None:
    registry.register(registry.Kind(
        "failed_payment", failed_payment_items, _may("billing.issue_refund"), model=Invoice,
        watches="failed payments nobody has followed up",
    ))
    registry.register(registry.Kind(
        "dispute", dispute_items, _may("billing.issue_refund"), model=Dispute,
        watches="open disputes",
    ))
    registry.register(registry.Kind(
        "failed_event", failed_event_items, _may("billing.replay_event"), model=StripeEvent,
        actions=(registry.RowAction("replay", "queue_replay", _replay,
                                     confirm="Apply this webhook event again? Changes already applied are skipped."),),
        watches="Stripe events that could not be applied",
    ))
    registry.register(registry.Kind(
        "refund_approval", refund_approval_items, _may("billing.approve_refund"), model=RefundRequest,
        watches="refunds waiting for your approval",
    ))
    registry.register_last_event(last_event_received_at)
