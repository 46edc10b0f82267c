"""Stripe events built in the shapes Stripe sends them, per API version, and Stripe's signing scheme.

The demo seeds itself with these, the benchmarks drive the webhook door with them and the tests
build their events with them, so none of them needs a file of recorded payloads. Each builder
returns the ``data.object`` of one object type; ``event`` wraps it in the envelope.

Fields moved between API versions (billing/parsing.py reads every one of them); the builders
follow the account's version:

- customer: ``account_balance`` became ``balance`` (2019-10-17); before 2020-08-27 the customer
  embeds its ``sources`` and ``subscriptions`` lists; ``name`` exists from 2019.
- subscription: before 2018 one top-level ``plan`` and no ``items``; then ``items.data[]`` (with
  ``price`` from 2020); from 2025-03-31.basil the billing period lives on each item only.
- invoice: ``date`` became ``created`` (2019-03-14), and ``status`` came with it; from basil the
  subscription is under ``parent.subscription_details`` and ``charge``, ``payment_intent`` and
  ``paid`` are gone.
- charge: a ``source`` card before 2019, ``payment_method_details`` after; the ``refunds`` list is
  embedded until 2022-11-15; ``invoice`` is gone from basil.
- payment intent: an embedded ``charges`` list until 2022-08-01, ``latest_charge`` after.

tests/demo/test_stripe_events.py holds every builder against Stripe's own payloads when those
are at hand: a builder never sends a field the real object of that version lacks.
"""

import hashlib
import hmac
import itertools
import json
import time

# Versions whose shapes the builders know, oldest first (one per change listed above).
API_VERSIONS = ("2016-07-06", "2018-11-08", "2020-08-27", "2022-11-15", "2025-03-31.basil", "2026-04-22.dahlia")
DEFAULT_API_VERSION = "2020-08-27"
DAY = 86400
_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_T{next(_ids):014d}"


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe-Signature header: t=<ts>,v1=HMAC-SHA256(secret, "<ts>." + body)."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def body(evt: dict) -> bytes:
    return json.dumps(evt).encode()


def since(api_version: str, date: str) -> bool:
    """Whether ``api_version`` (``2025-03-31.basil``, or "" when a payload names none) is ``date`` or newer."""
    return (api_version or DEFAULT_API_VERSION)[:10] >= date


def event(event_type: str, obj: dict, *, created: int | None = None, event_id: str | None = None,
          livemode: bool = False, api_version: str = DEFAULT_API_VERSION, previous: dict | None = None) -> dict:
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
        # Events before 2017-05-25 carry a bare request id, or none.
        "request": {"id": None, "idempotency_key": None} if since(api_version, "2017-05-25") else None,
        "type": event_type,
    }


def customer(cid: str, *, email: str | None = None, name: str | None = None, created: int = 1_600_000_000,
             currency: str | None = "usd", api_version: str = DEFAULT_API_VERSION) -> dict:
    obj = {
        "id": cid, "object": "customer", "created": created, "currency": currency, "default_source": None,
        "delinquent": False, "description": None, "discount": None, "email": email, "livemode": False,
        "metadata": {}, "shipping": None,
    }
    if since(api_version, "2019-10-17"):
        obj["balance"] = 0
    else:
        obj["account_balance"] = 0
    if since(api_version, "2019-02-19"):
        obj.update(name=name, phone=None, address=None, invoice_prefix=cid[-8:].upper(), preferred_locales=[],
                   tax_exempt="none", invoice_settings={"custom_fields": None, "default_payment_method": None,
                                                       "footer": None})
    else:
        obj["description"] = name  # the only place an old customer had a name
    if not since(api_version, "2020-08-27"):
        obj["sources"] = _list([], f"/v1/customers/{cid}/sources")
        obj["subscriptions"] = _list([], f"/v1/customers/{cid}/subscriptions")
    return obj


def _list(data: list, url: str) -> dict:
    return {"object": "list", "data": data, "has_more": False, "total_count": len(data), "url": url}


def price(*, amount: int = 4900, nickname: str = "Pro", interval: str = "month",
          api_version: str = DEFAULT_API_VERSION) -> dict:
    """A recurring price; before 2020 a plan (named, on old versions, instead of nicknamed)."""
    if not since(api_version, "2020-08-27"):
        plan = {
            "id": f"{nickname.lower()}_{interval}", "object": "plan", "amount": amount, "created": 1_400_000_000,
            "currency": "usd", "interval": interval, "interval_count": 1, "livemode": False, "metadata": {},
            "trial_period_days": None,
        }
        if since(api_version, "2018-02-05"):  # plans became prices of products: a nickname, no descriptor
            plan["nickname"] = nickname
        else:
            plan.update(name=nickname, statement_descriptor=None)
        return plan
    return {
        "id": f"price_{nickname.lower()}_{interval}", "object": "price", "active": True, "currency": "usd",
        "nickname": nickname, "product": "prod_T0000000000001", "recurring": {"interval": interval, "interval_count": 1},
        "type": "recurring", "unit_amount": amount,
    }


def _as_plan(p: dict) -> dict:
    """The ``plan`` Stripe still sends beside ``price`` for compatibility."""
    if p["object"] == "plan":
        return p
    return {"id": p["id"], "object": "plan", "active": True, "amount": p["unit_amount"], "currency": p["currency"],
            "interval": p["recurring"]["interval"], "interval_count": p["recurring"]["interval_count"],
            "livemode": False, "metadata": {}, "nickname": p["nickname"], "product": p["product"]}


def subscription(sid: str, cid: str, *, status: str = "active", amount: int = 4900, nickname: str = "Pro",
                 interval: str = "month", quantity: int = 1, created: int = 1_600_000_000,
                 current_period_start: int | None = None, current_period_end: int | None = None,
                 trial_start: int | None = None, trial_end: int | None = None, cancel_at_period_end: bool = False,
                 canceled_at: int | None = None, ended_at: int | None = None,
                 api_version: str = DEFAULT_API_VERSION) -> dict:
    start = current_period_start or created
    end = current_period_end or start + (365 if interval == "year" else 30) * DAY
    item_price = price(amount=amount, nickname=nickname, interval=interval, api_version=api_version)
    obj = {
        "id": sid, "object": "subscription", "application_fee_percent": None,
        "cancel_at_period_end": cancel_at_period_end, "canceled_at": canceled_at, "created": created,
        "customer": cid, "ended_at": ended_at, "livemode": False, "metadata": {}, "plan": _as_plan(item_price),
        "quantity": quantity, "status": status, "trial_end": trial_end, "trial_start": trial_start,
    }
    period = {"current_period_start": start, "current_period_end": end}
    if not since(api_version, "2018-02-05"):
        # Before multi-item subscriptions: one plan, no items.
        return {**obj, **period, "discount": None, "start": created, "tax_percent": None}
    item = {"id": f"si_{sid}", "object": "subscription_item", "created": created, "metadata": {},
            "plan": _as_plan(item_price), "quantity": quantity, "subscription": sid}
    if item_price["object"] == "price":
        item["price"] = item_price
    if since(api_version, "2025-03-31"):
        item.update(period)  # basil: the period is each item's, not the subscription's
        obj.update(currency="usd", discounts=[], collection_method="charge_automatically",
                   billing_cycle_anchor=start, start_date=created,
                   cancellation_details={"comment": None, "feedback": None, "reason": None})
    else:
        obj.update(period, discount=None)
        if since(api_version, "2019-10-17"):
            obj.update(collection_method="charge_automatically", start_date=created, billing_cycle_anchor=start)
        else:
            obj.update(billing="charge_automatically", start=created, billing_cycle_anchor=start)
    obj["items"] = _list([item], f"/v1/subscription_items?subscription={sid}")
    return obj


def invoice(iid: str, cid: str, sid: str | None, *, status: str = "paid", amount: int = 4900,
            email: str | None = None, created: int = 1_600_000_000, attempt_count: int = 1,
            charge: str | None = None, payment_intent: str | None = None, number: str | None = None,
            billing_reason: str = "subscription_cycle", next_payment_attempt: int | None = None,
            api_version: str = DEFAULT_API_VERSION) -> dict:
    paid = status == "paid"
    obj = {
        "id": iid, "object": "invoice", "amount_due": amount, "attempt_count": attempt_count, "attempted": True,
        "currency": "usd", "customer": cid, "description": None, "discount": None,
        "lines": _list([], f"/v1/invoices/{iid}/lines"), "livemode": False, "metadata": {},
        "next_payment_attempt": next_payment_attempt, "period_end": created,
        "period_start": created, "subtotal": amount, "total": amount,
    }
    if not since(api_version, "2019-03-14"):
        # Before 2019-03-14: `date`, not `created`; no status, only paid / closed / forgiven.
        obj["lines"].pop("has_more")
        return {**obj, "date": created, "paid": paid, "closed": paid, "forgiven": False, "charge": charge,
                "subscription": sid}
    obj.update(
        created=created, status=status, number=number or f"NUM-{iid[-6:]}", billing_reason=billing_reason,
        amount_paid=amount if paid else 0, amount_remaining=0 if paid else amount, customer_email=email,
        collection_method="charge_automatically",
        status_transitions={"finalized_at": created, "paid_at": created if paid else None,
                            "marked_uncollectible_at": None, "voided_at": None},
    )
    if since(api_version, "2025-03-31"):
        obj.pop("discount")
        obj.update(discounts=[], parent={"type": "subscription_details", "quote_details": None,
                                         "subscription_details": {"metadata": {}, "subscription": sid}} if sid else None)
        return obj
    return {**obj, "paid": paid, "charge": charge, "payment_intent": payment_intent, "subscription": sid}


def charge(chid: str, cid: str | None, *, amount: int = 4900, amount_refunded: int = 0, paid: bool = True,
           created: int = 1_600_000_000, refunds: list | None = None, invoice: str | None = None,
           payment_intent: str | None = None, failure_code: str | None = None, failure_message: str | None = None,
           disputed: bool = False, receipt_email: str | None = None, api_version: str = DEFAULT_API_VERSION) -> dict:
    obj = {
        "id": chid, "object": "charge", "amount": amount, "amount_refunded": amount_refunded, "captured": paid,
        "created": created, "currency": "usd", "customer": cid, "description": None, "dispute": None,
        "failure_code": failure_code, "failure_message": failure_message, "livemode": False, "metadata": {},
        "outcome": {"network_status": "approved_by_network" if paid else "declined_by_network",
                    "reason": None if paid else "generic_decline", "risk_level": "normal",
                    "seller_message": "Payment complete." if paid else "The bank did not return any further details.",
                    "type": "authorized" if paid else "issuer_declined"},
        "paid": paid, "payment_intent": payment_intent, "receipt_email": receipt_email,
        "refunded": amount_refunded >= amount, "status": "succeeded" if paid else "failed",
    }
    card = {"brand": "visa", "country": "US", "exp_month": 4, "exp_year": 2030, "funding": "credit", "last4": "4242"}
    if since(api_version, "2019-02-11"):
        obj.update(disputed=disputed, payment_method=f"pm_{chid[3:]}",
                   payment_method_details={"type": "card", "card": card})
    else:
        obj["source"] = {"id": f"card_{chid[3:]}", "object": "card", "customer": cid, **card, "brand": "Visa"}
    if since(api_version, "2020-01-01"):
        obj["amount_captured"] = amount if paid else 0
    if not since(api_version, "2022-11-15"):
        obj["refunds"] = _list(refunds or [], f"/v1/charges/{chid}/refunds")
    if not since(api_version, "2025-03-31"):
        obj["invoice"] = invoice
    return obj


def payment_intent(piid: str, cid: str | None, *, amount: int = 4900, status: str = "succeeded",
                   charge_obj: dict | None = None, invoice: str | None = None, created: int = 1_600_000_000,
                   api_version: str = DEFAULT_API_VERSION) -> dict:
    error = {"code": "card_declined", "message": "Your card was declined.",
             "type": "card_error"} if status == "requires_payment_method" else None
    obj = {
        "id": piid, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_received": amount if status == "succeeded" else 0, "capture_method": "automatic",
        "created": created, "currency": "usd", "customer": cid, "description": None, "last_payment_error": error,
        "livemode": False, "metadata": {}, "payment_method_types": ["card"], "status": status,
    }
    if not since(api_version, "2025-03-31"):
        obj["invoice"] = invoice
    if since(api_version, "2022-11-15"):
        obj["latest_charge"] = charge_obj["id"] if charge_obj else None
    else:
        obj["charges"] = _list([charge_obj] if charge_obj else [], f"/v1/charges?payment_intent={piid}")
    return obj


def refund(rid: str, chid: str, *, amount: int = 4900, status: str = "succeeded", created: int = 1_600_000_000,
           reason: str | None = "requested_by_customer", metadata: dict | None = None,
           api_version: str = DEFAULT_API_VERSION) -> dict:
    return {
        "id": rid, "object": "refund", "amount": amount, "charge": chid, "created": created,
        "currency": "usd", "metadata": metadata or {}, "payment_intent": None, "reason": reason,
        "status": status,
    }


def dispute(did: str, chid: str, *, amount: int = 4900, status: str = "needs_response", created: int = 1_600_000_000,
            reason: str = "fraudulent", due_by: int | None = None, api_version: str = DEFAULT_API_VERSION) -> dict:
    return {
        "id": did, "object": "dispute", "amount": amount, "balance_transactions": [], "charge": chid,
        "created": created, "currency": "usd",
        "evidence_details": {"due_by": due_by or created + 7 * DAY, "has_evidence": False, "past_due": False,
                             "submission_count": 0},
        "is_charge_refundable": False, "livemode": False, "metadata": {}, "payment_intent": None,
        "reason": reason, "status": status,
    }


def checkout_session(csid: str, cid: str, *, email: str | None = None, name: str | None = None,
                     subscription: str | None = None, amount: int = 4900, created: int = 1_600_000_000,
                     api_version: str = DEFAULT_API_VERSION) -> dict:
    details = {"email": email, "phone": None, "tax_exempt": "none", "tax_ids": []}
    if since(api_version, "2022-08-01"):
        details["name"] = name
    return {
        "id": csid, "object": "checkout.session", "amount_subtotal": amount, "amount_total": amount,
        "cancel_url": "https://example.com/cancel", "client_reference_id": None, "currency": "usd",
        "customer": cid, "customer_details": details,
        "customer_email": email, "livemode": False, "metadata": {}, "mode": "subscription" if subscription else "payment",
        "payment_intent": None, "payment_status": "paid", "status": "complete", "subscription": subscription,
        "success_url": "https://example.com/welcome",
    }


def every_event(*, api_version: str, prefix: str, created: int | None = None) -> list[dict]:
    """One event of each type Switchboard applies, for one customer, in ``api_version``'s shapes.

    Ids are ``<kind>_<prefix>...``: a fresh prefix gives a fresh set (the door stores each id once).
    """
    at = created or int(time.time())
    v = {"api_version": api_version}
    cid, sid, chid = f"cus_{prefix}", f"sub_{prefix}", f"ch_{prefix}"
    email = f"{prefix.lower()}@example.com"
    paid = charge(chid, cid, created=at, receipt_email=email, invoice=f"in_{prefix}", payment_intent=f"pi_{prefix}", **v)
    failed = charge(f"{chid}f", cid, paid=False, created=at, failure_code="card_declined",
                    failure_message="Your card was declined.", **v)
    refunded = charge(chid, cid, created=at, amount_refunded=900, **v)
    objects = [
        ("customer.created", customer(cid, email=email, name="Ada Lovelace", created=at, **v)),
        ("customer.updated", customer(cid, email=email, name="Ada King", created=at, **v)),
        ("checkout.session.completed", checkout_session(f"cs_{prefix}", cid, email=email, subscription=sid,
                                                        created=at, **v)),
        ("customer.subscription.created", subscription(sid, cid, status="trialing", created=at, trial_start=at,
                                                       trial_end=at + 14 * DAY, **v)),
        ("customer.subscription.trial_will_end", subscription(sid, cid, status="trialing", created=at, trial_start=at,
                                                              trial_end=at + 14 * DAY, **v)),
        ("customer.subscription.updated", subscription(sid, cid, created=at, **v)),
        ("invoice.paid", invoice(f"in_{prefix}", cid, sid, created=at, email=email, charge=chid, **v)),
        ("invoice.payment_succeeded", invoice(f"in_{prefix}", cid, sid, created=at, email=email, charge=chid, **v)),
        ("invoice.payment_failed", invoice(f"in_{prefix}f", cid, sid, status="open", created=at, email=email,
                                           next_payment_attempt=at + 3 * DAY, **v)),
        ("payment_intent.succeeded", payment_intent(f"pi_{prefix}", cid, charge_obj=paid, created=at, **v)),
        ("payment_intent.payment_failed", payment_intent(f"pi_{prefix}f", cid, status="requires_payment_method",
                                                         charge_obj=failed, created=at, **v)),
        ("charge.succeeded", paid),
        ("charge.failed", failed),
        ("charge.refunded", refunded),
        ("refund.created", refund(f"re_{prefix}", chid, amount=900, created=at, **v)),
        ("charge.refund.updated", refund(f"re_{prefix}", chid, amount=900, created=at, **v)),
        ("charge.dispute.created", dispute(f"dp_{prefix}", chid, created=at, **v)),
        ("customer.subscription.deleted", subscription(sid, cid, status="canceled", created=at, canceled_at=at,
                                                       ended_at=at, **v)),
        ("customer.deleted", customer(cid, email=email, name="Ada King", created=at, **v)),
    ]
    return [event(t, obj, created=at + i, event_id=f"evt_{prefix}{i:03d}", **v) for i, (t, obj) in enumerate(objects)]
