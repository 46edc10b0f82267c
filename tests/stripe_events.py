"""Stripe events built in the shapes real payloads have (see the shared fixtures), and Stripe's signing scheme."""

import hashlib
import hmac
import itertools
import json
import time

SECRET = "whsec_test_switchboard_primary"
OLD_SECRET = "whsec_test_switchboard_previous"
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_T{next(_ids):014d}"


def sign(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    """Stripe-Signature header: t=<ts>,v1=HMAC-SHA256(secret, "<ts>." + body)."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def event(event_type: str, obj: dict, *, created: int | None = None, event_id: str | None = None,
          livemode: bool = False, api_version: str = "2020-08-27", previous: dict | None = None) -> dict:
    data = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return {
        "id": event_id or new_id("evt"),
        "object": "event",
        "api_version": api_version,
        "created": created or int(time.time()),
        "data": data,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def customer(cid: str, *, email: str | None = None, name: str | None = None, created: int = 1_600_000_000) -> dict:
    return {
        "id": cid, "object": "customer", "balance": 0, "created": created, "currency": "usd",
        "delinquent": False, "description": None, "email": email, "livemode": False,
        "metadata": {}, "name": name,
    }


def price(*, amount: int = 4900, nickname: str = "Pro", interval: str = "month") -> dict:
    return {
        "id": f"price_{nickname.lower()}_{interval}", "object": "price", "active": True, "currency": "usd",
        "nickname": nickname, "product": "prod_T0000000000001", "recurring": {"interval": interval, "interval_count": 1},
        "type": "recurring", "unit_amount": amount,
    }


def subscription(sid: str, cid: str, *, status: str = "active", amount: int = 4900, nickname: str = "Pro",
                 interval: str = "month", quantity: int = 1, created: int = 1_600_000_000) -> dict:
    item_price = price(amount=amount, nickname=nickname, interval=interval)
    return {
        "id": sid, "object": "subscription", "cancel_at_period_end": False, "canceled_at": None,
        "collection_method": "charge_automatically", "created": created, "currency": "usd",
        "current_period_end": created + 30 * 86400, "current_period_start": created, "customer": cid,
        "ended_at": None,
        "items": {"object": "list", "data": [
            {"id": f"si_{sid}", "object": "subscription_item", "price": item_price, "quantity": quantity},
        ]},
        "livemode": False, "status": status, "trial_end": None,
    }


def invoice(iid: str, cid: str, sid: str | None, *, status: str = "paid", amount: int = 4900,
            email: str | None = None, created: int = 1_600_000_000, attempt_count: int = 1) -> dict:
    paid = status == "paid"
    return {
        "id": iid, "object": "invoice", "amount_due": amount, "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid else amount, "attempt_count": attempt_count, "attempted": True,
        "billing_reason": "subscription_cycle", "charge": None, "created": created, "currency": "usd",
        "customer": cid, "customer_email": email, "livemode": False, "number": f"NUM-{iid[-6:]}",
        "paid": paid, "status": status, "subscription": sid,
        "status_transitions": {"paid_at": created if paid else None},
    }


def charge(chid: str, cid: str | None, *, amount: int = 4900, amount_refunded: int = 0, paid: bool = True,
           created: int = 1_600_000_000, refunds: list | None = None) -> dict:
    return {
        "id": chid, "object": "charge", "amount": amount, "amount_refunded": amount_refunded,
        "created": created, "currency": "usd", "customer": cid, "description": None, "disputed": False,
        "failure_code": None, "failure_message": None, "invoice": None, "livemode": False,
        "paid": paid, "payment_intent": None, "refunded": amount_refunded >= amount,
        "refunds": {"object": "list", "data": refunds or []},
        "status": "succeeded" if paid else "failed",
    }


def refund(rid: str, chid: str, *, amount: int = 4900, status: str = "succeeded", created: int = 1_600_000_000) -> dict:
    return {
        "id": rid, "object": "refund", "amount": amount, "charge": chid, "created": created,
        "currency": "usd", "metadata": {}, "payment_intent": None, "reason": "requested_by_customer",
        "status": status,
    }


def dispute(did: str, chid: str, *, amount: int = 4900, status: str = "needs_response", created: int = 1_600_000_000) -> dict:
    return {
        "id": did, "object": "dispute", "amount": amount, "charge": chid, "created": created,
        "currency": "usd", "evidence_details": {"due_by": created + 7 * 86400}, "livemode": False,
        "reason": "fraudulent", "status": status,
    }


def body(evt: dict) -> bytes:
    return json.dumps(evt).encode()


def post(client, payload: dict | bytes, *, secret: str = SECRET, timestamp: int | None = None, header: str | None = None):
    raw = payload if isinstance(payload, bytes) else body(payload)
    sig = header if header is not None else sign(raw, secret, timestamp)
    extra = {"HTTP_STRIPE_SIGNATURE": sig} if sig else {}
    return client.post("/webhooks/stripe/", data=raw, content_type="application/json", **extra)
