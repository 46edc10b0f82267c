"""The Stripe webhook door: verify, store once, schedule. No outside call, no domain work here."""

import time

import stripe
import structlog
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.context import start_correlation
from billing import counters, metrics
from billing.models import EventStatus, StripeEvent
from billing.parsing import EventShapeError, event_from_body
from billing.tasks import enqueue_event
from core.http import MAX_BODY_BYTES, body_too_large
from core.ratelimit import rate_limited

log = structlog.get_logger(__name__)
# Every reason the door refuses a request for (the counters' labels; health and metrics read them).
SIGNATURE_REASONS = ("bad_signature", "expired", "malformed_signature", "missing_signature")
REJECT_REASONS = (*SIGNATURE_REASONS, "not_configured", "malformed_event", "too_large", "rate_limited")
# Every answer the door gives, as /metrics labels it.
DOOR_OUTCOMES = ("stored", "duplicate", "unavailable", *REJECT_REASONS)
for _outcome in DOOR_OUTCOMES:
    metrics.webhook_requests.labels(_outcome)  # every series exists from the start, at 0


def _reject(status: int, reason: str, detail: str) -> JsonResponse:
    metrics.webhook_requests.labels(reason).inc()
    counters.incr("webhook_rejected", reason)
    log.warning("stripe_webhook.rejected", reason=reason, status=status)
    return JsonResponse({"error": detail}, status=status)


def verify_signature(payload: bytes, header: str) -> int:
    """Return the index of the configured secret that signed ``payload``; raise on failure."""
    text = payload.decode("utf-8")
    tolerance = stripe.Webhook.DEFAULT_TOLERANCE
    last_error: Exception | None = None
    for index, secret in enumerate(settings.STRIPE_WEBHOOK_SECRETS):
        try:
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance=tolerance)
        except stripe.SignatureVerificationError as exc:
            last_error = exc
            continue
        # The SDK checks only the past; a signature dated far ahead would stay replayable until then.
        if _signed_at(header) > time.time() + tolerance:
            raise stripe.SignatureVerificationError("Timestamp outside the tolerance zone (future)", header, text)
        return index
    raise last_error or stripe.SignatureVerificationError("No webhook secret is configured", header, text)


def _signed_at(header: str) -> int:
    """The time a header the SDK accepted was signed, read the way the SDK reads it (the first ``t=``)."""
    return int(next(part.split("=", 2)[1] for part in header.split(",") if part.split("=", 2)[0] == "t"))


def _signature_reason(exc: Exception) -> tuple[str, str]:
    message = str(exc).lower()
    if "timestamp outside" in message:
        return "expired", "signature timestamp is outside the tolerance"
    if "unable to extract" in message:
        return "malformed_signature", "malformed Stripe-Signature header"
    if "no webhook secret" in message:
        return "not_configured", "no webhook secret is configured"
    return "bad_signature", "signature does not match"


def _insert(**fields) -> StripeEvent:
    """Alone (autocommit) one INSERT is its own transaction, without BEGIN/COMMIT round trips;
    inside a caller's transaction a savepoint keeps a duplicate from breaking it."""
    if not transaction.get_connection().in_atomic_block:
        return StripeEvent.objects.create(**fields)
    with transaction.atomic():
        return StripeEvent.objects.create(**fields)


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    # Fails open to a per-process count while the cache is down: Stripe must never be refused
    # for our outage, and a flood still costs only a signature check per request.
    if rate_limited(request, group="stripe_webhook", rate=settings.STRIPE_WEBHOOK_RATE_LIMIT):
        return _reject(429, "rate_limited", "too many requests")
    if body_too_large(request, MAX_BODY_BYTES):  # gunicorn closes the connection past the same limit
        return _reject(413, "too_large", "body larger than 1 MiB")
    payload = request.body

    header = request.headers.get("Stripe-Signature", "")
    if not header:
        return _reject(400, "missing_signature", "missing Stripe-Signature header")
    try:
        secret_index = verify_signature(payload, header)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        reason, detail = _signature_reason(exc)
        return _reject(400, reason, detail)

    try:
        envelope = event_from_body(payload)
    except EventShapeError as exc:
        return _reject(400, "malformed_event", f"malformed event: {exc}")

    correlation_id = start_correlation()
    mismatch = envelope.livemode != settings.STRIPE_LIVEMODE
    try:
        event = _insert(
            stripe_id=envelope.id,
            type=envelope.type,
            api_version=envelope.api_version,
            livemode=envelope.livemode,
            created=envelope.created,
            payload=envelope.raw,
            secret_index=secret_index,
            correlation_id=correlation_id,
            mode_mismatch=mismatch,
            status=EventStatus.IGNORED if mismatch else EventStatus.RECEIVED,
            last_error="Live-mode event on a test-mode install, or the reverse: not applied" if mismatch else "",
            # The wake-up is published right after commit; if that fails the sweeper sends it.
            woken_at=None if mismatch else timezone.now(),
        )
        if not mismatch:
            transaction.on_commit(lambda: enqueue_event(event.pk))
    except IntegrityError:
        if not StripeEvent.objects.filter(stripe_id=envelope.id).exists():
            raise
        metrics.webhook_requests.labels("duplicate").inc()
        counters.incr("webhook_duplicate", envelope.type)
        return JsonResponse({"received": True, "duplicate": True})
    except DatabaseError:
        log.error("stripe_webhook.database_unavailable")
        metrics.webhook_requests.labels("unavailable").inc()
        return JsonResponse({"error": "temporarily unavailable"}, status=503)
    metrics.webhook_requests.labels("stored").inc()
    counters.incr("webhook_received", envelope.type)
    return JsonResponse({"received": True})
