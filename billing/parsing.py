"""Reading Stripe payloads of every API version a real account may be pinned to (2015 to today).

Fields moved over the years; these helpers read each one wherever it lives and
never trust a field to be present.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

# Real events nest under ten levels; anything far deeper is not an event, and recursive code
# (rendering, redaction) reading it later would fail on it.
MAX_DEPTH = 64


class EventShapeError(ValueError):
    """The body is signed but is not a Stripe event."""


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    created: datetime
    livemode: bool
    api_version: str
    raw: dict
    customer: str = ""  # the Stripe customer the object belongs to, when it names one


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON; Stripe never sends them and the database would refuse them.
    raise EventShapeError(f"{name} is not valid JSON")


def event_from_body(payload: bytes) -> Envelope:
    """The event in a (verified) request body, or EventShapeError saying why it is not one."""
    if b"\\u0000" in payload:
        # NUL is valid JSON but no database text type holds it, and Stripe never sends it.
        raise EventShapeError("contains a NUL character")
    try:
        body = json.loads(payload, parse_constant=_refuse_constant)
    except RecursionError:
        raise EventShapeError(f"nested deeper than {MAX_DEPTH} levels") from None
    except EventShapeError:
        raise
    except ValueError as exc:
        raise EventShapeError(str(exc)) from None
    _check_depth(body)
    try:
        # A lone surrogate (\ud800) is valid JSON but not UTF-8: no database could store it.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise EventShapeError("text that is not valid UTF-8") from None
    return event_envelope(body)


def _check_depth(value: Any) -> None:
    """Walk the parsed body without recursion and refuse it past MAX_DEPTH levels."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, (dict, list)):
                if level >= MAX_DEPTH:
                    raise EventShapeError(f"nested deeper than {MAX_DEPTH} levels")
                stack.append((child, level + 1))


def event_envelope(body: Any) -> Envelope:
    if not isinstance(body, dict):
        raise EventShapeError("not a JSON object")
    event_id, event_type, created = body.get("id"), body.get("type"), body.get("created")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 255:
        raise EventShapeError("missing id")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 100:
        raise EventShapeError("missing type")
    if isinstance(created, bool) or not isinstance(created, int) or not 0 < created < 2**37:
        raise EventShapeError("missing created")
    data = body.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise EventShapeError("missing data.object")
    livemode = body.get("livemode")
    if not isinstance(livemode, bool):
        # Decides whether the event is applied on this install: a string "false" must not read as true.
        raise EventShapeError("livemode is not true or false")
    api_version = body.get("api_version")
    return Envelope(
        id=event_id,
        type=event_type,
        created=ts(created),
        livemode=livemode,
        api_version=api_version if isinstance(api_version, str) else "",
        raw=body,
        customer=_short_id(customer_id(data["object"])),
    )


def _short_id(value: str) -> str:
    return value if len(value) <= 255 else ""


def ts(value: Any) -> datetime | None:
    """A Stripe unix timestamp as an aware datetime (None when absent or not a number)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return datetime.fromtimestamp(int(value), tz=timezone.utc)


def object_id(value: Any) -> str:
    """Stripe fields hold either an id or the expanded object; return the id either way."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def money(value: Any) -> int:
    """Amounts are integers in minor units; anything else is a malformed payload."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventShapeError("amount is not an integer")
    return value


def text(value: Any, limit: int = 200) -> str:
    return value[:limit] if isinstance(value, str) else ""


def currency(obj: dict) -> str:
    return text(obj.get("currency"), 3).lower()


def customer_id(obj: dict) -> str:
    if obj.get("object") == "customer":
        return object_id(obj.get("id"))
    return object_id(obj.get("customer"))


def invoice_subscription_id(invoice: dict) -> str:
    # 2025-03-31.basil moved it under parent.subscription_details
    parent = invoice.get("parent")
    if isinstance(parent, dict):
        details = parent.get("subscription_details")
        if isinstance(details, dict) and object_id(details.get("subscription")):
            return object_id(details.get("subscription"))
    return object_id(invoice.get("subscription"))


def payment_intent_charge_id(intent: dict) -> str:
    # 2022-11-15 replaced the embedded `charges` list with `latest_charge`
    latest = object_id(intent.get("latest_charge"))
    if latest:
        return latest
    charges = intent.get("charges")
    if isinstance(charges, dict) and isinstance(charges.get("data"), list) and charges["data"]:
        return object_id(charges["data"][-1])
    return ""


@dataclass(frozen=True)
class SubscriptionTerms:
    price_id: str
    plan_name: str
    amount: int
    interval: str
    interval_count: int
    quantity: int
    period_start: datetime | None
    period_end: datetime | None


def subscription_terms(sub: dict) -> SubscriptionTerms:
    """Price, plan, amount and period of a subscription in any shape.

    Before multi-item subscriptions there is one top-level ``plan``; later an
    ``items.data[]`` list; from basil the billing period lives on the items.
    """
    items = sub.get("items", {}).get("data") if isinstance(sub.get("items"), dict) else None
    items = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    amount = 0
    first_price: dict = {}
    period_start = ts(sub.get("current_period_start"))
    period_end = ts(sub.get("current_period_end"))
    quantity_total = 0
    for item in items:
        price = item.get("price") if isinstance(item.get("price"), dict) else item.get("plan")
        price = price if isinstance(price, dict) else {}
        first_price = first_price or price
        qty = item.get("quantity") if isinstance(item.get("quantity"), int) else 1
        quantity_total += qty
        amount += money(price.get("unit_amount", price.get("amount"))) * qty
        period_start = period_start or ts(item.get("current_period_start"))
        period_end = period_end or ts(item.get("current_period_end"))
    if not items:
        plan = sub.get("plan") if isinstance(sub.get("plan"), dict) else {}
        first_price = plan
        qty = sub.get("quantity") if isinstance(sub.get("quantity"), int) else 1
        quantity_total = qty
        amount = money(plan.get("amount", plan.get("unit_amount"))) * qty
    recurring = first_price.get("recurring") if isinstance(first_price.get("recurring"), dict) else {}
    interval = text(first_price.get("interval") or recurring.get("interval"), 10)
    interval_count = first_price.get("interval_count") or recurring.get("interval_count") or 1
    product = first_price.get("product")
    plan_name = (
        text(first_price.get("nickname"))
        or text(first_price.get("name"))
        or (text(product.get("name")) if isinstance(product, dict) else "")
        or text(first_price.get("id"))
    )
    return SubscriptionTerms(
        price_id=text(first_price.get("id"), 255),
        plan_name=plan_name,
        amount=amount,
        interval=interval,
        interval_count=interval_count if isinstance(interval_count, int) and interval_count > 0 else 1,
        quantity=max(quantity_total, 1),
        period_start=period_start,
        period_end=period_end,
    )


def customer_email(obj: dict) -> str:
    """The best email a payload carries for its customer (customer objects often have none)."""
    for key in ("email", "customer_email", "receipt_email"):
        value = obj.get(key)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()[:254]
    details = obj.get("customer_details")
    if isinstance(details, dict) and isinstance(details.get("email"), str) and "@" in details["email"]:
        return details["email"].strip().lower()[:254]
    return ""


def customer_name(obj: dict) -> str:
    if obj.get("object") == "customer":
        return text(obj.get("name")) or text(obj.get("description"))
    details = obj.get("customer_details")
    if isinstance(details, dict):
        return text(details.get("name"))
    return ""
