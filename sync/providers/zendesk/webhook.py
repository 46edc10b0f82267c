"""Zendesk's webhook door: verify the desk's signature, read the delivery, hand it on to be stored
once and applied (by the function ``config/urls.py`` passes in: support's, which this package
cannot import).

Zendesk signs base64(HMAC-SHA256(secret, timestamp + body)) and sends the result in
``X-Zendesk-Webhook-Signature`` and the timestamp in ``X-Zendesk-Webhook-Signature-Timestamp``.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from sync.providers.desk_door import DeliveryHandler, desk_delivery_receive

SIGNATURE_HEADER = "X-Zendesk-Webhook-Signature"
TIMESTAMP_HEADER = "X-Zendesk-Webhook-Signature-Timestamp"


def desk_signature(body: bytes, timestamp: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def _parsed(text: str) -> datetime | None:
    """ISO 8601; a time without a zone is read as UTC, so comparing it cannot fail."""
    value = parse_datetime(text)
    if value is not None and timezone.is_naive(value):
        value = value.replace(tzinfo=dt_timezone.utc)
    return value


def _when(timestamp: str) -> datetime | None:
    """The signature's time: ISO 8601 as Zendesk sends it, or Unix seconds."""
    if timestamp.isdigit():
        return datetime.fromtimestamp(int(timestamp), tz=dt_timezone.utc)
    try:
        return _parsed(timestamp)
    except ValueError:
        return None


def signature_ok(body: bytes, timestamp: str, signature: str) -> bool:
    secret = settings.SUPPORT_WEBHOOK_SECRET
    if not (secret and timestamp and signature):
        return False
    if not hmac.compare_digest(desk_signature(body, timestamp, secret), signature.strip()):
        return False
    signed_at = _when(timestamp)
    tolerance = timedelta(seconds=settings.SUPPORT_WEBHOOK_TOLERANCE)
    return signed_at is not None and abs(timezone.now() - signed_at) <= tolerance


def _status_of(payload: dict) -> str:
    detail, event = payload.get("detail") or {}, payload.get("event") or {}
    current = event.get("current") if isinstance(event, dict) else None
    if isinstance(current, dict):
        current = current.get("status")
    return str(current or detail.get("status") or payload.get("status") or "")


def _fields(payload: dict) -> dict:
    """Zendesk's ticket event shape, or a trigger's flat JSON body with the same names."""
    detail = payload.get("detail") if isinstance(payload.get("detail"), dict) else {}
    changed = (
        _parsed(str(payload.get("time") or detail.get("updated_at") or ""))
        if (payload.get("time") or detail.get("updated_at"))
        else None
    )
    return {
        "delivery_id": str(payload.get("id") or ""),
        "event_type": str(payload.get("type") or ""),
        "desk_id": str(detail.get("id") or payload.get("ticket_id") or ""),
        "external_id": str(detail.get("external_id") or payload.get("external_id") or ""),
        "status": _status_of(payload),
        "changed_at": changed,
    }


def webhook_view(*, apply: DeliveryHandler) -> Callable[[HttpRequest], HttpResponse]:
    """The door as a view: every delivery that passes its checks goes to ``apply``."""

    @csrf_exempt
    @login_not_required
    @require_POST
    def support_webhook(request: HttpRequest) -> JsonResponse:
        return _receive(request, apply)

    return support_webhook


def _receive(request: HttpRequest, apply: DeliveryHandler) -> JsonResponse:
    return desk_delivery_receive(
        request, door="support_webhook", apply=apply, rate=settings.SUPPORT_WEBHOOK_RATE_LIMIT,
        verified=lambda body: signature_ok(
            body, request.headers.get(TIMESTAMP_HEADER, ""), request.headers.get(SIGNATURE_HEADER, "")
        ),
        bad_signature="signature missing, wrong or too old", fields_of=_fields,
    )
