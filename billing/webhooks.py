"""The Stripe webhook door: verify, store once, answer. No outside call, no domain work, and no wake-up
to send: the events workers watch the table for new rows (billing/tasks.py)."""

import time

import stripe
import structlog
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.context import start_correlation
from billing import counters, metrics
from billing.models import EventStatus, StripeEvent
from billing.parsing import EventShapeError, event_from_body
from billing.tasks import event_stored
from core.client_ip import client_ip
from core.http import MAX_BODY_BYTES, body_too_large
from core.ratelimit import LOCAL

log = structlog.get_logger(__name__)
# Every reason the door refuses a request for (the counters' labels; health and metrics read them).
SIGNATURE_REASONS = ("bad_signature", "expired", "malformed_signature", "missing_signature")
REJECT_REASONS = (*SIGNATURE_REASONS, "not_configured", "malformed_event", "too_large", "rate_limited")
# Every answer the door gives, as /metrics labels it.
DOOR_OUTCOMES = ("stored", "duplicate", "unavailable", *REJECT_REASONS)
for _outcome in DOOR_OUTCOMES:
    metrics.webhook_requests.labels(_outcome)  # every series exists from the start, at 0
DOOR_PATH = "/webhooks/stripe/"  # config/urls.py names it too (for reverse() and the URL x role matrix)


class StripeDoorMiddleware:
    """Stripe's requests go straight to the door, past the rest of the site's middleware: sessions,
    users, CSRF, CSP, htmx, messages, request logs, audit actors and sign-in lockouts serve pages and
    people, and cost the door as much as its own work. Placed right after SecurityMiddleware, so
    HTTPS redirects still apply; an exception still becomes Django's 500 (each middleware is wrapped)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.path_info == DOOR_PATH:
            return stripe_webhook(request)
        return self.get_response(request)


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
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        with transaction.atomic():
            return StripeEvent.objects.create(**fields)
    # CONN_HEALTH_CHECKS would ask the database "SELECT 1" before the INSERT: a round trip as long as
    # the INSERT's own, and a third of the door's time under load. The INSERT is the check instead: a
    # connection that broke while idle fails it, and it is sent once more on a new connection (had the
    # first one been stored after all, the second is refused as a duplicate, answered 200 all the same).
    connection.health_check_done = True
    try:
        return StripeEvent.objects.create(**fields)
    except (InterfaceError, OperationalError):
        if connection.in_atomic_block:
            raise
        connection.close()
        return StripeEvent.objects.create(**fields)


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    # Counted in this process only (the limit is per web process): a shared count costs two Redis
    # round trips, more than what it guards, since a flood costs the door a signature check per request
    # (unsigned ones stop there); and Stripe is never refused for a Redis outage.
    if LOCAL.hit("stripe_webhook", client_ip(request), settings.STRIPE_WEBHOOK_RATE_LIMIT):
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
            stripe_customer_id=envelope.customer,
            secret_index=secret_index,
            correlation_id=correlation_id,
            mode_mismatch=mismatch,
            status=EventStatus.IGNORED if mismatch else EventStatus.RECEIVED,
            last_error="Live-mode event on a test-mode install, or the reverse: not applied" if mismatch else "",
        )
        if not mismatch:
            transaction.on_commit(lambda: event_stored(event.pk))
    except IntegrityError:
        if not StripeEvent.objects.filter(stripe_id=envelope.id).exists():
            raise
        metrics.webhook_requests.labels("duplicate").inc()
        return JsonResponse({"received": True, "duplicate": True})
    except DatabaseError:
        log.error("stripe_webhook.database_unavailable")
        metrics.webhook_requests.labels("unavailable").inc()
        return JsonResponse({"error": "temporarily unavailable"}, status=503)
    # Stored events are counted by their rows (the health screen reads the table): no cache round trip.
    metrics.webhook_requests.labels("stored").inc()
    return JsonResponse({"received": True})
