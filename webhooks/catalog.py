"""Switchboard's own event types: stable names, one documented JSON example each.

Every payload is the same envelope: ``id`` (the fact's stable id, also the ``webhook-id`` of every
attempt to deliver it), ``type``, ``created`` (ISO 8601, UTC) and ``data``, which always carries our
customer id (``customer``), the linked ids in the outside tools (``linked``) and the event that
caused the fact (``cause``: where it came from and its id there).
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

# The link ids every example shows; a real payload carries the customer's own.
_LINKED = {"stripe": "cus_PqR5tUvW", "hubspot": "51234567", "zendesk": "9012345"}
_CAUSE = {"source": "stripe", "id": "evt_1PqR5tUvWxYz"}


@dataclass(frozen=True)
class EventType:
    name: str
    summary: str
    example: dict = field(default_factory=dict)  # the fact's own fields, beside customer/linked/cause


CATALOG: tuple[EventType, ...] = (
    EventType("customer.created", "A new customer is known to Switchboard.",
              {"email_domain": "example.com", "plan": "pro-monthly", "status": "trial"}),
    EventType("customer.status_changed",
              "The customer's status moved (trial, active, past_due, canceled), with the reason.",
              {"from": "trial", "to": "active", "reason": "trial_converted", "was_paying": False}),
    EventType("customer.plan_changed", "The customer's plan changed.",
              {"from": "starter-monthly", "to": "pro-monthly", "mrr_cents": 4900, "currency": "usd"}),
    EventType("payment.succeeded", "A payment went through.",
              {"payment": "pi_3PqR5tUvW", "amount_cents": 4900, "currency": "usd"}),
    EventType("payment.failed", "A payment failed.",
              {"payment": "pi_3PqR5tUvX", "amount_cents": 4900, "currency": "usd",
               "failure_code": "card_declined"}),
    EventType("refund.succeeded", "Money went back to the customer.",
              {"refund": "re_3PqR5tUvW", "payment": "pi_3PqR5tUvW", "amount_cents": 4900, "currency": "usd"}),
    EventType("dispute.opened", "The customer's bank opened a dispute.",
              {"dispute": "dp_1PqR5tUvW", "payment": "pi_3PqR5tUvW", "amount_cents": 4900,
               "currency": "usd", "reason": "fraudulent"}),
    EventType("dispute.closed", "A dispute ended, won or lost.",
              {"dispute": "dp_1PqR5tUvW", "payment": "pi_3PqR5tUvW", "outcome": "won"}),
    EventType("ticket.opened", "Switchboard opened a support ticket for the customer.",
              {"ticket": "412", "desk": "zendesk", "subject": "Payment failed", "priority": "high",
               "category": "payment_failed"}),
    EventType("customer.merged", "Two customer records turned out to be one; the other id is retired.",
              {"merged_from": "sw_8c21d07e5b3a", "reason": "merged_by_staff"}),
)
EVENT_TYPES: dict[str, EventType] = {event.name: event for event in CATALOG}
TEST_EVENT = "switchboard.test"


def envelope(fact_id: str, event_type: str, created: datetime, *, customer: str, linked: dict[str, str],
             cause: dict[str, str], fields: dict) -> dict:
    """The payload of one fact, the same for every endpoint and every attempt."""
    if event_type not in EVENT_TYPES and event_type != TEST_EVENT:
        raise ValueError(f"Unknown event type {event_type!r}")
    return {
        "id": fact_id,
        "type": event_type,
        "created": created.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "data": {"customer": customer, "linked": dict(linked), "cause": dict(cause), **fields},
    }


def example(event_type: str) -> dict:
    """The documented example of ``event_type``."""
    event = EVENT_TYPES[event_type]
    return envelope("msg_2bYv8wXkQp7rT3sD", event.name, datetime(2026, 5, 4, 9, 30, tzinfo=timezone.utc),
                    customer="sw_3f9a1c7b2e4d", linked=_LINKED, cause=_CAUSE,
                    fields=event.example)


def body(payload: dict) -> str:
    """The exact text sent and signed: compact JSON with sorted keys, the same on every attempt."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def fact_id(event_type: str, customer: str, cause: dict[str, str]) -> str:
    """The stable id of one fact: the same when its cause is replayed or a second consumer run sees it,
    so the outbox keeps one delivery per (fact, endpoint) and the receiver sees one ``webhook-id``."""
    seed = "\0".join([event_type, customer, cause.get("source", ""), cause.get("id", "")])
    return "msg_" + hashlib.sha256(seed.encode()).hexdigest()[:32]


def delivery_key(fact: str, endpoint: int | str) -> str:
    """The outbox's idempotency key of delivering ``fact`` to one endpoint."""
    return f"webhook:{endpoint}:{fact}"
