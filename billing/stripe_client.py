"""The one place Switchboard calls Stripe's API: the official SDK, explicit timeouts and retries,
and Stripe's errors turned into sentences a person can act on."""

from collections.abc import Iterator
from dataclasses import dataclass

import stripe
from django.conf import settings


class StripeCallError(Exception):
    """Stripe refused or could not be reached.

    ``definite`` is True when Stripe certainly did not act (a 4xx answer);
    False when the outcome is unknown (timeout, connection lost, 5xx) and the
    same call must be retried with the same idempotency key to learn it.
    """

    def __init__(self, message: str, *, definite: bool, code: str = "") -> None:
        super().__init__(message)
        self.definite = definite
        self.code = code


@dataclass(frozen=True)
class StripeRefund:
    id: str
    status: str
    amount: int
    currency: str
    charge: str
    reason: str
    failure_reason: str
    created: int | None
    raw: dict


def stripe_connected() -> bool:
    """Whether calls to Stripe's API (refunds, reconciliation) can be made at all."""
    return bool(settings.STRIPE_API_KEY)


def stripe_client() -> stripe.StripeClient:
    if not settings.STRIPE_API_KEY:
        raise StripeCallError(
            "Refunds need a Stripe API key: set STRIPE_API_KEY (see .env.example).", definite=True, code="no_key"
        )
    base = settings.STRIPE_API_BASE or None
    return stripe.StripeClient(
        settings.STRIPE_API_KEY,
        base_addresses={"api": base} if base else None,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=(settings.STRIPE_CONNECT_TIMEOUT, settings.STRIPE_READ_TIMEOUT)),
    )


# Stripe error codes a person can do something about, in words.
_CODES = {
    "charge_already_refunded": "This payment was already refunded in full at Stripe.",
    "charge_disputed": "This payment is disputed; Stripe does not allow a refund while the dispute is open. "
    "Respond to the dispute instead.",
    "balance_insufficient": "The Stripe balance is too low to pay this refund. Add funds in Stripe, then retry.",
    "insufficient_funds": "The Stripe balance is too low to pay this refund. Add funds in Stripe, then retry.",
    "amount_too_large": "Stripe says the amount is more than what is left to refund on this payment.",
    "charge_expired_for_refund": "This payment is too old to be refunded through Stripe.",
    "resource_missing": "Stripe does not know this payment (was it made in the other mode, live or test?).",
}


def error_sentence(exc: Exception) -> StripeCallError:
    """Stripe's exception as a plain sentence, and whether Stripe certainly did nothing."""
    if isinstance(exc, StripeCallError):
        return exc
    code = getattr(exc, "code", None) or ""
    if code in _CODES:
        return StripeCallError(_CODES[code], definite=True, code=code)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return StripeCallError(
            "Stripe refused our API key (missing, revoked or without refund rights). Ask the owner to check "
            "STRIPE_API_KEY.",
            definite=True,
            code="auth",
        )
    if isinstance(exc, stripe.IdempotencyError):
        return StripeCallError(
            "Stripe is still working on this refund. Wait a moment and retry.", definite=False, code="idempotency"
        )
    if isinstance(exc, stripe.RateLimitError):
        return StripeCallError("Stripe is busy (rate limited). Retry in a minute.", definite=False, code="rate_limit")
    if isinstance(exc, stripe.APIConnectionError):
        return StripeCallError(
            "Stripe could not be reached or did not answer in time. The refund may or may not have been made; "
            "retry, and Stripe will not refund twice.",
            definite=False,
            code="connection",
        )
    if isinstance(exc, stripe.InvalidRequestError):
        return StripeCallError(
            "Stripe refused the refund as invalid. Check the payment in Stripe.", definite=True, code=code or "invalid"
        )
    if isinstance(exc, stripe.CardError):
        return StripeCallError("The card network refused the refund.", definite=True, code=code or "card")
    return StripeCallError(
        "Stripe had a problem answering. The refund may or may not have been made; retry, and Stripe will not "
        "refund twice.",
        definite=False,
        code="api_error",
    )


def refund_create(
    *, charge_id: str, amount: int, reason: str, idempotency_key: str, metadata: dict[str, str]
) -> StripeRefund:
    """Create a refund at Stripe. The same ``idempotency_key`` always means the same refund."""
    client = stripe_client()
    try:
        refund = client.v1.refunds.create(
            {"charge": charge_id, "amount": amount, "reason": reason, "metadata": metadata},
            {"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise error_sentence(exc) from None
    return _refund(refund)


def _refund(obj) -> StripeRefund:
    raw = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return StripeRefund(
        id=str(raw.get("id") or ""),
        status=str(raw.get("status") or ""),
        amount=int(raw.get("amount") or 0),
        currency=str(raw.get("currency") or "").lower(),
        charge=raw["charge"] if isinstance(raw.get("charge"), str) else str((raw.get("charge") or {}).get("id", "")),
        reason=str(raw.get("reason") or ""),
        failure_reason=str(raw.get("failure_reason") or ""),
        created=raw.get("created") if isinstance(raw.get("created"), int) else None,
        raw=raw,
    )


# Stripe list endpoints reconciliation reads, by the name of our mirror kind.
LISTABLE = {"customer": "customers", "subscription": "subscriptions", "charge": "charges", "refund": "refunds"}


def stripe_list(kind: str, params: dict | None = None) -> Iterator[dict]:
    """Every object of ``kind`` Stripe lists, page after page, as plain dicts."""
    service = getattr(stripe_client().v1, LISTABLE[kind])
    try:
        for obj in service.list(params={"limit": 100, **(params or {})}).auto_paging_iter():
            yield obj.to_dict()
    except stripe.StripeError as exc:
        raise error_sentence(exc) from exc


# --- subscriptions -------------------------------------------------------------------------------

def subscription_error_sentence(exc: Exception) -> StripeCallError:
    """Like ``error_sentence``, in the words of a subscription change."""
    if isinstance(exc, StripeCallError):
        return exc
    code = getattr(exc, "code", None) or ""
    message = (getattr(exc, "user_message", None) or "").strip()
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return StripeCallError(
            "Stripe refused our API key (missing, revoked or without subscription rights). Ask the owner to check "
            "STRIPE_API_KEY.", definite=True, code="auth",
        )
    if isinstance(exc, stripe.IdempotencyError):
        return StripeCallError("Stripe is still working on this change. Wait a moment and retry.",
                               definite=False, code="idempotency")
    if isinstance(exc, stripe.RateLimitError):
        return StripeCallError("Stripe is busy (rate limited). Retry in a minute.", definite=False, code="rate_limit")
    if isinstance(exc, stripe.APIConnectionError):
        return StripeCallError(
            "Stripe could not be reached or did not answer in time. The change may or may not have been made; "
            "send it again, and Stripe will not make it twice.", definite=False, code="connection",
        )
    if code == "resource_missing":
        return StripeCallError("Stripe does not know this subscription or price (was it made in the other mode, "
                               "live or test?).", definite=True, code=code)
    if isinstance(exc, (stripe.InvalidRequestError, stripe.CardError)):
        said = f" Stripe said: {message}" if message else ""
        return StripeCallError(f"Stripe refused the change.{said}"[:300], definite=True, code=code or "invalid")
    return StripeCallError(
        "Stripe had a problem answering. The change may or may not have been made; send it again, and Stripe "
        "will not make it twice.", definite=False, code="api_error",
    )


def _plain(obj) -> dict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def subscription_update(*, subscription_id: str, params: dict, idempotency_key: str) -> dict:
    """Change a subscription at Stripe; the same ``idempotency_key`` is always the same change."""
    client = stripe_client()
    try:
        sub = client.v1.subscriptions.update(subscription_id, params, {"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise subscription_error_sentence(exc) from None
    return _plain(sub)


def subscription_cancel(*, subscription_id: str, idempotency_key: str) -> dict:
    """End a subscription at Stripe now (no proration credit: a refund, if any, is its own request)."""
    client = stripe_client()
    try:
        sub = client.v1.subscriptions.cancel(subscription_id, {}, {"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise subscription_error_sentence(exc) from None
    return _plain(sub)


@dataclass(frozen=True)
class ProrationPreview:
    due_now: int  # the proration lines: charged (or credited, below zero) at once
    next_invoice: int  # the rest of the upcoming invoice: the new price's next period
    currency: str


def _is_proration(line: dict) -> bool:
    if line.get("proration") is True:  # before 2025-03-31
        return True
    details = (line.get("parent") or {}).get("subscription_item_details") or {}
    return details.get("proration") is True


def subscription_change_preview(
    *, customer_id: str, subscription_id: str, item_id: str, price_id: str, proration_date: int
) -> ProrationPreview:
    """Stripe's own arithmetic for moving ``item_id`` to ``price_id`` at ``proration_date``."""
    client = stripe_client()
    params = {
        "customer": customer_id,
        "subscription": subscription_id,
        "subscription_details": {
            "items": [{"id": item_id, "price": price_id}],
            "proration_behavior": "create_prorations",
            "proration_date": proration_date,
        },
    }
    try:
        invoice = _plain(client.v1.invoices.create_preview(params))
    except stripe.StripeError as exc:
        raise subscription_error_sentence(exc) from None
    lines = ((invoice.get("lines") or {}).get("data")) or []
    due_now = sum(int(line.get("amount") or 0) for line in lines if _is_proration(line))
    total = int(invoice.get("amount_due") if invoice.get("amount_due") is not None else invoice.get("total") or 0)
    return ProrationPreview(due_now=due_now, next_invoice=total - due_now, currency=str(invoice.get("currency") or ""))
