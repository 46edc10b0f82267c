"""The one redactor: what Switchboard may store or show of a payload it did not write itself.

Keys decide. Anything named like a credential is always blanked; with ``personal`` (the default)
so is anything naming a person, an address, a phone, a card or the free text a person wrote, and
e-mail addresses are caught inside any text as well. ``cut`` also shortens long text and long
containers, for summaries that are stored with every attempt.
"""

import re
from typing import Any

REDACTED = "[redacted]"
TEXT_LIMIT = 200  # characters of one text kept when cutting
MAX_KEYS, MAX_ITEMS = 40, 20  # of one object / one list kept when cutting

SECRET_KEYS = re.compile(
    r"(authorization|token|secret|password|api[_-]?key|cookie|signature|credential)", re.I
)
PERSONAL_KEYS = frozenset({
    # people and how to reach them
    "email", "e-mail", "email_address", "user_email", "customer_email", "receipt_email",
    "name", "first_name", "firstname", "last_name", "lastname", "full_name", "fullname", "customer_name",
    "phone", "mobile", "customer_phone", "requester", "ip",
    # where they live
    "address", "customer_address", "line1", "line2", "city", "postal_code", "postalcode", "zip", "state",
    "shipping", "billing_details",
    # their cards
    "card", "last4", "exp_month", "exp_year", "fingerprint",
    # what they wrote (ticket text), and search terms that may be any of the above
    "body", "comment", "_default_description_", "value",
})
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_EMPTY = (None, "", [], {})


def sensitive(key: str, *, personal: bool = True) -> bool:
    """Whether a value stored under ``key`` must not be shown."""
    return bool(SECRET_KEYS.search(key)) or (personal and key.lower() in PERSONAL_KEYS)


def redact(value: Any, *, personal: bool = True, cut: bool = False) -> Any:
    """A copy of ``value`` with secrets (always) and personal data (when ``personal``) replaced."""
    if isinstance(value, dict):
        items = list(value.items())[:MAX_KEYS] if cut else value.items()
        return {
            key: REDACTED if sensitive(str(key), personal=personal) and item not in _EMPTY
            else redact(item, personal=personal, cut=cut)
            for key, item in items
        }
    if isinstance(value, list):
        return [redact(item, personal=personal, cut=cut) for item in (value[:MAX_ITEMS] if cut else value)]
    if isinstance(value, str):
        return _text(value, personal=personal, cut=cut)
    return value


def _text(value: str, *, personal: bool, cut: bool) -> str:
    if personal:
        if "@" in value and not any(c.isspace() for c in value.strip()):
            return REDACTED  # an address under an innocent key (HubSpot's upsert "id"), dotless too
        value = _EMAIL.sub(REDACTED, value)  # before cutting: a cut address would no longer be recognised
    return value[:TEXT_LIMIT] + "…" if cut and len(value) > TEXT_LIMIT else value
