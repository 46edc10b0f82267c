"""The team's everyday Slack notices, rendered from Switchboard's facts.

A Slack route is an endpoint of another kind: the same facts, the same outbox, but this body (an
incoming webhook's ``text``) and no signature. Four notices exist, each on or off per route; a
notice names the customer by their Switchboard id and plan only, unless the owner lets the route
carry the email and name, and always links to the customer's 360.
"""

from dataclasses import dataclass

NEW_PAYING = "new_paying_customer"
PAYMENT_FAILED = "payment_failed"
DISPUTE_OPENED = "dispute_opened"
BIG_REFUND = "refund_above_threshold"
NOTICES = {
    NEW_PAYING: "New paying customer",
    PAYMENT_FAILED: "Failed payment",
    DISPUTE_OPENED: "Dispute opened",
    BIG_REFUND: "Refund above the threshold",
}


@dataclass(frozen=True)
class Route:
    """What one Slack route is told: the notices chosen, the refund threshold, and whether it may
    carry the customer's email and name."""

    notices: frozenset[str]
    refund_threshold_cents: int = 0
    personal_data: bool = False  # both the email and the name
    personal_fields: frozenset[str] = frozenset()  # or some of them: "email", "name"

    def may_tell(self, field: str) -> bool:
        return self.personal_data or field in self.personal_fields


def notice_for(event_type: str, data: dict) -> str:
    """Which notice a fact is, "" for none."""
    if event_type == "customer.status_changed" and data.get("to") == "active" and not data.get("was_paying"):
        return NEW_PAYING
    return {"payment.failed": PAYMENT_FAILED, "dispute.opened": DISPUTE_OPENED,
            "refund.succeeded": BIG_REFUND}.get(event_type, "")


def wanted(route: Route, event_type: str, data: dict) -> str:
    """The notice ``route`` is to get for this fact, "" when it chose none of it."""
    notice = notice_for(event_type, data)
    if notice not in route.notices:
        return ""
    if notice == BIG_REFUND and int(data.get("amount_cents") or 0) <= route.refund_threshold_cents:
        return ""
    return notice


def body(route: Route, notice: str, *, customer: str, plan: str, customer_url: str, data: dict,
         email: str = "", name: str = "") -> dict:
    """The incoming webhook's JSON body for one notice."""
    who = f"{customer} ({plan or 'no plan'})"
    email = email if route.may_tell("email") else ""
    name = name if route.may_tell("name") else ""
    if email and name:
        who = f"{name} <{email}> · {who}"
    elif email or name:
        who = f"{email or name} · {who}"
    amount = _amount(data)
    line = f"*{NOTICES[notice]}*{': ' + amount if amount else ''} · {who}"
    return {"text": f"{line}\n<{customer_url}|Open in Switchboard>"}


def _amount(data: dict) -> str:
    cents, currency = data.get("amount_cents"), (data.get("currency") or "").upper()
    if cents in (None, ""):
        return ""
    return f"{int(cents) / 100:,.2f} {currency}".strip()
