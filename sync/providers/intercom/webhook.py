"""Intercom's webhook door: verify the app's signature, read a ticket notification, hand it on to be
stored once and applied (by the function ``config/urls.py`` passes in: support's, which this package
cannot import).

Intercom signs each notification with the app's client secret: ``X-Hub-Signature: sha1=<hex>``, the
HMAC-SHA1 of the raw body. It sends no timestamp; a replay is harmless because each notification's id
is stored once, so a delivery seen before changes nothing.
"""

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import datetime
from datetime import timezone as dt_timezone

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from sync.providers.desk_door import DeliveryHandler, desk_delivery_receive

__all__ = ["SIGNATURE_HEADER", "hub_signature", "webhook_view"]

SIGNATURE_HEADER = "X-Hub-Signature"
# Intercom's ticket states -> the statuses support keeps (Intercom has no "on hold").
STATES = {"submitted": "new", "in_progress": "open", "waiting_on_customer": "waiting", "resolved": "solved"}
_MARKER = re.compile(r"Switchboard ticket (\S+)\s*$")


def hub_signature(body: bytes, secret: str) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def signature_ok(body: bytes, signature: str) -> bool:
    secret = settings.INTERCOM_CLIENT_SECRET
    return bool(secret and signature) and hmac.compare_digest(hub_signature(body, secret), signature.strip())


def _state(item: dict) -> str:
    """The ticket's state: a name in older API versions, an object with its category since 2.12."""
    state = item.get("ticket_state")
    if isinstance(state, dict):
        state = state.get("category")
    return STATES.get(str(state or ""), "")


def _fields(payload: dict) -> dict:
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    item = data.get("item") if isinstance(data.get("item"), dict) else {}
    if item.get("type") != "ticket":
        item = {}  # a notification about something else: stored, and nothing applied
    attributes = item.get("ticket_attributes") if isinstance(item.get("ticket_attributes"), dict) else {}
    marker = _MARKER.search(str(attributes.get("_default_description_") or ""))
    updated = item.get("updated_at")
    return {
        "delivery_id": f"intercom:{payload.get('id') or ''}" if payload.get("id") else "",
        "event_type": str(payload.get("topic") or ""),
        "desk_id": str(item.get("id") or ""),
        "external_id": marker.group(1) if marker else "",  # the job's key, in the ticket Switchboard made
        "status": _state(item),
        "changed_at": datetime.fromtimestamp(updated, tz=dt_timezone.utc) if isinstance(updated, int) else None,
    }


def webhook_view(*, apply: DeliveryHandler) -> Callable[[HttpRequest], HttpResponse]:
    """The door as a view: every notification that passes its checks goes to ``apply``."""

    @csrf_exempt
    @login_not_required
    @require_http_methods(["POST", "HEAD"])
    def intercom_webhook(request: HttpRequest) -> HttpResponse:
        if request.method == "HEAD":  # a check that the URL answers (as when it is saved): nothing is read
            return HttpResponse(status=200)
        return _receive(request, apply)

    return intercom_webhook


def _receive(request: HttpRequest, apply: DeliveryHandler) -> JsonResponse:
    return desk_delivery_receive(
        request, door="intercom_webhook", apply=apply, rate=settings.INTERCOM_WEBHOOK_RATE_LIMIT,
        verified=lambda body: signature_ok(body, request.headers.get(SIGNATURE_HEADER, "")),
        bad_signature="signature missing or wrong", fields_of=_fields, id_prefix="intercom:",
    )
