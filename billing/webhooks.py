"""The Stripe webhook door: verify, store once, schedule. No outside call, no domain work here."""

import json

import stripe
import structlog
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.context import start_correlation
from billing import counters, metrics
from billing.models import EventStatus, StripeEvent
from billing.parsing import EventShapeError, event_envelope
from billing.tasks import enqueue_event
from config.ratelimit import rate_limited

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
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
    last_error: Exception | None = None
    for index, secret in enumerate(settings.STRIPE_WEBHOOK_SECRETS):
        try:
            stripe.WebhookSignature.verify_header(
                text, header, secret, tolerance=stripe.Webhook.DEFAULT_TOLERANCE
            )
            return index
        except stripe.SignatureVerificationError as exc:
            last_error = exc
    raise last_error or stripe.SignatureVerificationError("No webhook secret is configured", header, text)


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


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON; Stripe never sends them and the database would refuse them.
    raise EventShapeError(f"{name} is not valid JSON")


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    # Fails open to a per-process count while the cache is down: Stripe must never be refused
    # for our outage, and a flood still costs only a signature check per request.
    if rate_limited(request, group="stripe_webhook", rate=settings.STRIPE_WEBHOOK_RATE_LIMIT):
        return _reject(429, "rate_limited", "too many requests")
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return _reject(413, "too_large", "body larger than 1 MiB")
    payload = request.body
    if len(payload) > MAX_BODY_BYTES:
        return _reject(413, "too_large", "body larger than 1 MiB")

    header = request.headers.get("Stripe-Signature", "")
    if not header:
        return _reject(400, "missing_signature", "missing Stripe-Signature header")
    try:
        secret_index = verify_signature(payload, header)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        reason, detail = _signature_reason(exc)
        return _reject(400, reason, detail)

    try:
        if b"\\u0000" in payload:
            # NUL is valid JSON but no database text type holds it, and Stripe never sends it.
            raise EventShapeError("contains a NUL character")
        body = json.loads(payload, parse_constant=_refuse_constant)
        # A lone surrogate (\ud800) is valid JSON but not UTF-8: no database could store it.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
        envelope = event_envelope(body)
    except UnicodeEncodeError:
        return _reject(400, "malformed_event", "malformed event: text that is not valid UTF-8")
    except (ValueError, EventShapeError) as exc:
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
