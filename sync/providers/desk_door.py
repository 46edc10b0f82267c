"""What every support desk's webhook door does around its own signature check: a rate limit, a body
limit, the check, a JSON object read into the fields support stores, an id for a delivery that
carries none (stable for that exact body), and the hand-over to be stored once and applied."""

import hashlib
import json
from collections.abc import Callable

import structlog
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse

from core.http import DESK_WEBHOOK_MAX_BODY_BYTES, body_too_large
from core.ratelimit import rate_limited

log = structlog.get_logger(__name__)

# Stores one delivery once and applies its status: called with the fields the desk's reader returns
# and the whole ``payload``; returns (outcome, duplicate).
DeliveryHandler = Callable[..., tuple[str, bool]]


def desk_delivery_receive(
    request: HttpRequest, *, door: str, apply: DeliveryHandler, rate: str, verified: Callable[[bytes], bool],
    bad_signature: str, fields_of: Callable[[dict], dict], id_prefix: str = "",
) -> JsonResponse:
    """``door`` names the door in logs and in the rate limit's count; ``verified(body)`` is the desk's
    signature check; ``fields_of(payload)`` reads the delivery's fields in the desk's own shape."""

    def reject(status: int, reason: str, detail: str) -> JsonResponse:
        log.warning(f"{door}.rejected", reason=reason, status=status)
        return JsonResponse({"error": detail}, status=status)

    # Fails open to a per-process count while the cache is down: the desk signs every delivery and
    # retries a refusal, and a ticket's status must not wait for our Redis.
    if rate_limited(request, group=door, rate=rate):
        return reject(429, "rate_limited", "too many requests")
    if body_too_large(request, DESK_WEBHOOK_MAX_BODY_BYTES):
        return reject(413, "too_large", "body too large")
    body = request.body
    if not verified(body):
        return reject(401, "bad_signature", bad_signature)
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
        fields = fields_of(payload)
    except (ValueError, OverflowError):
        return reject(400, "malformed", "body is not a JSON object")
    if not fields["delivery_id"]:
        fields["delivery_id"] = f"{id_prefix}sig:" + hashlib.sha256(body).hexdigest()
    try:
        outcome, duplicate = apply(payload=payload, **fields)
    except DatabaseError:
        log.error(f"{door}.database_unavailable")
        return JsonResponse({"error": "temporarily unavailable"}, status=503)
    return JsonResponse({"received": True, "outcome": outcome, "duplicate": duplicate})
