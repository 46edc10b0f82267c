"""Refunds: requested by finance, approved by an owner above a threshold, made at Stripe exactly once.

A request moves requested -> (awaiting_approval ->) pending -> succeeded / failed,
or awaiting_approval -> rejected. Stripe is called with an idempotency key
derived from the request, so a double submit, a retry after a timeout or a
second worker is always the same refund. Stripe's answer (the API reply or the
``refund.*`` / ``charge.refunded`` webhooks, whichever comes first) moves the
request on, and both write the same ``billing.Refund`` mirror row.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Source
from audit.services import audit_record
from billing import parsing as p
from billing import stripe_client
from billing.errors import BillingError
from billing.models import Charge, Refund, RefundReason, RefundRequest, RefundStatus
from billing.services.approvals import decision_note, decision_write
from core.money import decimals, format_money

# Stripe refund states that hold (or will hold) the money back from the charge.
_LIVE_REFUND_STATES = ("succeeded", "pending", "requires_action")
METADATA_KEY = "switchboard_refund_request"


class RefundError(BillingError):
    """A refund that cannot be requested, approved or sent, in a sentence."""


def refundable_amount(*, charge: Charge) -> int:
    """What may still be refunded: the charge minus what Stripe refunded and what is already asked for."""
    return refundable_amounts(charges=[charge])[charge.pk]


def refundable_amounts(*, charges: Sequence[Charge]) -> dict[int, int]:
    """``refundable_amount`` of each charge, by primary key, in two queries however many charges."""
    by_stripe_id = {c.stripe_id: c.pk for c in charges}
    mirrored: dict[int, dict[str, int]] = {c.pk: {} for c in charges}
    live = Refund.objects.filter(charge_stripe_id__in=list(by_stripe_id), status__in=_LIVE_REFUND_STATES)
    for charge_stripe_id, stripe_id, amount in live.values_list("charge_stripe_id", "stripe_id", "amount"):
        mirrored[by_stripe_id[charge_stripe_id]][stripe_id] = amount
    in_flight: dict[int, int] = defaultdict(int)
    open_requests = RefundRequest.objects.filter(charge__in=[c.pk for c in charges], status__in=RefundRequest.IN_FLIGHT)
    for charge_id, stripe_refund_id, amount in open_requests.values_list("charge_id", "stripe_refund_id", "amount"):
        if stripe_refund_id not in mirrored[charge_id]:  # counted once, as Stripe's refund
            in_flight[charge_id] += amount
    return {
        c.pk: max(c.amount - max(c.amount_refunded, sum(mirrored[c.pk].values())) - in_flight[c.pk], 0)
        for c in charges
    }


def _check_refundable(charge: Charge, amount: int, currency: str) -> None:
    if not charge.paid or charge.status != "succeeded":
        raise RefundError("Only a successful payment can be refunded.")
    if charge.refunded or charge.amount_refunded >= charge.amount:
        raise RefundError("This payment was already refunded in full.")
    if charge.disputed:
        raise RefundError("This payment is disputed; Stripe does not allow a refund while the dispute is open.")
    if currency and currency.lower() != charge.currency:
        raise RefundError(f"A refund is paid in the payment's currency ({charge.currency.upper()}).")
    if amount <= 0:
        raise RefundError("The amount must be more than zero.")
    left = refundable_amount(charge=charge)
    if amount > left:
        raise RefundError(
            f"At most {format_money(left, charge.currency)} can still be refunded on this payment "
            "(counting refunds already made or waiting)."
        )


NOT_CONNECTED = "Stripe is not connected: refunds need STRIPE_API_KEY (see .env.example)."


def approval_threshold(currency: str) -> int:
    """The approval limit in ``currency``'s minor units: a per-currency setting, else the general one
    (set in minor units of a two-decimal currency) moved by the currency's own exponent, so 500.00 USD
    is 500 JPY and 500.000 KWD rather than 50,000 JPY and 50.000 KWD."""
    code = (currency or "").lower()
    own = settings.REFUND_APPROVAL_THRESHOLDS.get(code)
    if own is not None:
        return int(own)
    return settings.REFUND_APPROVAL_THRESHOLD * 10 ** decimals(code) // 100


def refund_needs_approval(amount: int, currency: str) -> bool:
    return amount > approval_threshold(currency)


def refund_request(
    *,
    charge: Charge,
    amount: int,
    reason: str,
    note: str,
    actor,
    currency: str = "",
    submit_token: str = "",
    source: str = Source.UI,
) -> RefundRequest:
    """Record a request to refund ``amount`` of ``charge``. A second call with the same ``submit_token``
    returns the first request instead of making another."""
    if reason not in RefundReason.values:
        raise RefundError("Choose one of Stripe's refund reasons.")
    note = (note or "").strip()[:500]
    with transaction.atomic():
        locked = Charge.objects.select_for_update(of=("self",)).select_related("customer").get(pk=charge.pk)
        if submit_token:
            existing = RefundRequest.objects.filter(submit_token=submit_token).first()
            if existing is not None:
                return existing
        _check_refundable(locked, amount, currency)
        needs_approval = refund_needs_approval(amount, locked.currency)
        try:
            with transaction.atomic():
                request = RefundRequest.objects.create(
                    charge=locked,
                    customer=locked.customer,
                    amount=amount,
                    currency=locked.currency,
                    reason=reason,
                    note=note,
                    requested_by=actor,
                    needs_approval=needs_approval,
                    status=RefundStatus.AWAITING_APPROVAL if needs_approval else RefundStatus.REQUESTED,
                    submit_token=submit_token or timezone.now().strftime("auto-%Y%m%d%H%M%S%f"),
                )
        except IntegrityError:
            existing = RefundRequest.objects.filter(submit_token=submit_token).first()
            if existing is None:
                raise
            return existing
        request.idempotency_key = f"refund-request-{request.pk}"
        request.save(update_fields=["idempotency_key"])
        audit_record(
            action="refund.requested",
            source=source,
            actor=actor,
            customer=locked.customer,
            target=request,
            summary=f"Refund of {format_money(amount, locked.currency)} on {locked.stripe_id} requested"
            + (" (needs an owner's approval)" if needs_approval else ""),
            changes={
                "charge": locked.stripe_id,
                "amount": amount,
                "currency": locked.currency,
                "reason": reason,
                "note": note,
                "needs_approval": needs_approval,
            },
        )
    return request


def _decide(*, request: RefundRequest, actor, note: str, approve: bool, source: str) -> RefundRequest:
    note = decision_note(actor=actor, note=note, approve=approve, subject="a refund", what="refund", error=RefundError)
    with transaction.atomic():
        locked = RefundRequest.objects.select_for_update(of=("self",)).select_related("charge").get(pk=request.pk)
        decision_write(locked, actor=actor, note=note, approve=approve, what="refund", error=RefundError,
                       waiting=RefundStatus.AWAITING_APPROVAL, approved=RefundStatus.REQUESTED,
                       rejected=RefundStatus.REJECTED, still_possible=_check_refundable_again)
        locked.save()
        verb = "approved" if approve else "rejected"
        audit_record(
            action=f"refund.{verb}",
            source=source,
            actor=actor,
            customer=locked.customer,
            target=locked,
            summary=f"Refund of {format_money(locked.amount, locked.currency)} on {locked.charge.stripe_id} {verb}"
            + (f": {note}" if note else ""),
            changes={"status": [RefundStatus.AWAITING_APPROVAL, locked.status], "note": note},
        )
    return locked


def _check_refundable_again(request: RefundRequest) -> None:
    """Between request and approval the charge may have been refunded elsewhere."""
    charge = Charge.objects.select_for_update().get(pk=request.charge_id)
    others = refundable_amount(charge=charge) + request.amount  # this request counts as in flight
    if request.amount > others or charge.refunded or charge.disputed:
        raise RefundError(
            f"Only {format_money(max(others, 0), charge.currency)} can still be refunded on this payment now; "
            "reject this request and ask for a new one."
        )


def refund_approve(*, request: RefundRequest, actor, note: str = "", source: str = Source.UI) -> RefundRequest:
    """An owner other than the requester lets a refund above the threshold go ahead (send it with refund_execute)."""
    return _decide(request=request, actor=actor, note=note, approve=True, source=source)


def refund_reject(*, request: RefundRequest, actor, note: str, source: str = Source.UI) -> RefundRequest:
    return _decide(request=request, actor=actor, note=note, approve=False, source=source)


def _claim(request: RefundRequest) -> RefundRequest | None:
    """Move the request to pending for this attempt; None when there is nothing to send."""
    with transaction.atomic():
        locked = (
            RefundRequest.objects.select_for_update(of=("self",))
            .select_related("charge", "customer")
            .get(pk=request.pk)
        )
        if locked.status == RefundStatus.AWAITING_APPROVAL:
            raise RefundError("This refund waits for an owner's approval.")
        sendable = locked.status == RefundStatus.REQUESTED or (
            locked.status == RefundStatus.PENDING and not locked.stripe_refund_id
        )
        if not sendable:
            return None
        locked.status = RefundStatus.PENDING
        locked.attempts += 1
        locked.sent_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "sent_at", "updated_at"])
    return locked


def refund_execute(*, request: RefundRequest, actor=None, source: str = Source.UI) -> RefundRequest:
    """Send the refund to Stripe. Safe to call again: same request, same idempotency key, one refund.

    Stripe's refusal marks the request failed with a sentence; an unknown outcome
    (timeout, 5xx) leaves it pending with the sentence, ready to retry.
    """
    if not stripe_client.stripe_connected():  # nothing to record: Stripe was never asked
        raise RefundError(NOT_CONNECTED)
    claimed = _claim(request)
    if claimed is None:
        return RefundRequest.objects.get(pk=request.pk)
    try:
        result = stripe_client.refund_create(
            charge_id=claimed.charge.stripe_id,
            amount=claimed.amount,
            reason=claimed.reason,
            idempotency_key=claimed.idempotency_key,
            metadata={METADATA_KEY: str(claimed.pk)},
        )
    except stripe_client.StripeCallError as exc:
        return _record_error(claimed, exc, actor=actor, source=source)
    return _record_result(claimed, result, actor=actor, source=source)


def refund_submit(
    *, charge: Charge, amount: int, reason: str, note: str, actor, submit_token: str, source: str = Source.UI
) -> RefundRequest:
    """Request a refund and, when it needs no approval, send it at once. A second submit of the same
    confirmation (same token) returns the first request and sends nothing. Without a Stripe key nothing
    is recorded: the request could only fail."""
    if not stripe_client.stripe_connected():
        raise RefundError(NOT_CONNECTED)
    request = refund_request(
        charge=charge, amount=amount, reason=reason, note=note, actor=actor, submit_token=submit_token, source=source
    )
    if request.status == RefundStatus.REQUESTED and request.attempts == 0:
        request = refund_execute(request=request, actor=actor, source=source)
    return request


def refund_retry(*, request: RefundRequest, actor, source: str = Source.UI) -> RefundRequest:
    """Send again a refund Stripe refused without making one (a missing or revoked key, an API error),
    once its cause is fixed. A new idempotency key: Stripe may have kept the refusal under the old one."""
    if not stripe_client.stripe_connected():
        raise RefundError(NOT_CONNECTED)
    with transaction.atomic():
        locked = RefundRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RefundStatus.FAILED or locked.stripe_refund_id:
            raise RefundError("Only a refund Stripe refused before making it can be sent again; ask for a new one.")
        before = locked.error
        locked.status, locked.error, locked.finished_at = RefundStatus.REQUESTED, "", None
        locked.idempotency_key = f"refund-request-{locked.pk}-try-{locked.attempts + 1}"
        locked.save(update_fields=["status", "error", "finished_at", "idempotency_key", "updated_at"])
        audit_record(
            action="refund.retried", source=source, actor=actor, customer=locked.customer, target=locked,
            summary=f"Refund of {format_money(locked.amount, locked.currency)} sent again after: {before}"[:300],
            changes={"status": [RefundStatus.FAILED, RefundStatus.REQUESTED], "attempt": locked.attempts + 1},
        )
    return refund_execute(request=locked, actor=actor, source=source)


def _record_error(request: RefundRequest, exc: stripe_client.StripeCallError, *, actor, source: str) -> RefundRequest:
    with transaction.atomic():
        locked = RefundRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status != RefundStatus.PENDING or locked.stripe_refund_id:
            return locked  # a webhook told us the outcome meanwhile
        locked.error = str(exc)[:300]
        if exc.definite:
            locked.status, locked.finished_at = RefundStatus.FAILED, timezone.now()
        locked.save(update_fields=["status", "error", "finished_at", "updated_at"])
        audit_record(
            action="refund.failed" if exc.definite else "refund.unconfirmed",
            source=source,
            actor=actor,
            customer=request.customer,
            target=locked,
            summary=f"Refund of {format_money(locked.amount, locked.currency)}: {locked.error}"[:300],
            changes={"status": [RefundStatus.PENDING, locked.status], "error": exc.code, "attempt": locked.attempts},
        )
    return locked


def _record_result(request: RefundRequest, result: stripe_client.StripeRefund, *, actor, source: str) -> RefundRequest:
    with transaction.atomic():
        locked = RefundRequest.objects.select_for_update().get(pk=request.pk)
        before = locked.status
        locked.stripe_refund_id, locked.error = result.id, ""
        new_status = _status_from_stripe(result.status)
        if new_status != RefundStatus.PENDING or before == RefundStatus.PENDING:
            locked.status = new_status
        if locked.status in (RefundStatus.SUCCEEDED, RefundStatus.FAILED):
            locked.finished_at = locked.finished_at or timezone.now()
            if locked.status == RefundStatus.FAILED:
                locked.error = _failure_sentence(result.failure_reason)
        locked.save()
        _mirror_from_api(locked, result)
        audit_record(
            action="refund.issued",
            source=source,
            actor=actor,
            customer=request.customer,
            target=locked,
            summary=f"Refund {result.id} of {format_money(locked.amount, locked.currency)} sent to Stripe: "
            f"{result.status}",
            changes={"status": [before, locked.status], "stripe_refund_id": result.id, "attempt": locked.attempts},
        )
    return locked


def _mirror_from_api(request: RefundRequest, result: stripe_client.StripeRefund) -> Refund:
    """The same mirror row the webhook writes: created here if Stripe's event has not arrived yet,
    left alone if it has (events carry the newer truth; they apply over this row)."""
    defaults = {
        "charge_stripe_id": result.charge or request.charge.stripe_id,
        "amount": result.amount,
        "currency": result.currency,
        "status": result.status[:30],
        "reason": result.reason[:50],
        "failure_reason": result.failure_reason[:100],
        "customer": request.customer,
        "stripe_customer_id": request.charge.stripe_customer_id,
        "livemode": request.charge.livemode,
        "stripe_created": p.ts(result.created),
        "data": result.raw,
    }
    try:
        with transaction.atomic():
            row, _ = Refund.objects.get_or_create(stripe_id=result.id, defaults=defaults)
    except IntegrityError:
        row = Refund.objects.get(stripe_id=result.id)
    return row


def _status_from_stripe(status: str) -> str:
    if status == "succeeded":
        return RefundStatus.SUCCEEDED
    if status in ("failed", "canceled"):
        return RefundStatus.FAILED
    return RefundStatus.PENDING


def _failure_sentence(reason: str) -> str:
    reasons = {
        "lost_or_stolen_card": "the card was reported lost or stolen",
        "expired_or_canceled_card": "the card expired or was canceled",
        "charge_for_pending_refund_disputed": "the payment was disputed while the refund was pending",
        "insufficient_funds": "the Stripe balance was too low",
        "declined": "the card network declined it",
        "merchant_request": "it was canceled at our request",
    }
    return f"Stripe could not complete the refund: {reasons.get(reason, reason.replace('_', ' ') or 'no reason given')}."


def refund_settle(*, refund: Refund, source: str = Source.WEBHOOK) -> RefundRequest | None:
    """A refund event from Stripe moves the matching request on (inside the event's transaction).

    The request is found by Stripe's refund id or, when the API reply never
    reached us (timeout), by the request id we put in the refund's metadata.
    """
    metadata = refund.data.get("metadata") if isinstance(refund.data, dict) else None
    tagged = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    match = RefundRequest.objects.select_for_update().filter(stripe_refund_id=refund.stripe_id).first()
    if match is None and isinstance(tagged, str) and tagged.isdigit():
        match = RefundRequest.objects.select_for_update().filter(pk=int(tagged), stripe_refund_id="").first()
    if match is None or match.status == RefundStatus.REJECTED:
        return match
    before = match.status
    new_status = _status_from_stripe(refund.status)
    if before == new_status and match.stripe_refund_id == refund.stripe_id:
        return match
    match.stripe_refund_id = refund.stripe_id
    match.status = new_status
    if new_status == RefundStatus.SUCCEEDED:
        match.error = ""
        match.finished_at = match.finished_at or timezone.now()
    elif new_status == RefundStatus.FAILED:
        match.error = _failure_sentence(refund.failure_reason)
        match.finished_at = timezone.now()
    match.save()
    if before != new_status:
        audit_record(
            action="refund.confirmed" if new_status == RefundStatus.SUCCEEDED else f"refund.{new_status}",
            source=source,
            customer=match.customer,
            target=match,
            summary=f"Stripe reports refund {refund.stripe_id} {refund.status or 'updated'}",
            changes={"status": [before, new_status], "stripe_refund_id": refund.stripe_id},
        )
    return match



# Stripe keeps idempotency keys for at least 24 hours; past that a resend could be a new refund.
RESEND_WINDOW = timedelta(hours=23)
RESEND_AFTER = timedelta(minutes=2)


def refunds_resend_unconfirmed(*, now=None, limit: int = 50) -> int:
    """Ask Stripe again about requests left pending without its answer (a timeout, a process that died
    mid-call), with the same idempotency key. Older than the key's lifetime they are left to a person."""
    now = now or timezone.now()
    if not stripe_client.stripe_connected():
        return 0  # the key was removed: they wait, still pending, for it to come back
    due = RefundRequest.objects.filter(
        status=RefundStatus.PENDING,
        stripe_refund_id="",
        sent_at__lt=now - RESEND_AFTER,
        sent_at__gt=now - RESEND_WINDOW,
    ).order_by("sent_at")[:limit]
    for request in due:
        refund_execute(request=request, source=Source.WORKER)
    return len(due)
