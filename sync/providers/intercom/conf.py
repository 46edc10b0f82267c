"""Intercom's settings, published limit and record links."""

import environ

__all__ = ["CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "WEBHOOK_SECRET", "record_url", "settings_from_env"]

NAME = "intercom"
LABEL = "Intercom"
SYSTEMS = ("crm", "support")
CREDENTIALS = ("INTERCOM_ACCESS_TOKEN",)  # settings that must all be set
# Per app, enforced in 10-second slices (on the order of 10,000 calls a minute): kept well under.
RATE_LIMIT = ("INTERCOM_RATE_LIMIT", 1000, 10)
WEBHOOK_SECRET = "INTERCOM_CLIENT_SECRET"


def settings_from_env(env: environ.Env) -> dict:
    return {
        "INTERCOM_ACCESS_TOKEN": env.str("INTERCOM_ACCESS_TOKEN", default=""),
        "INTERCOM_BASE_URL": env.str("INTERCOM_BASE_URL", default="") or "https://api.intercom.io",
        # The ticket type tickets are created with (support desk only).
        "INTERCOM_TICKET_TYPE_ID": env.str("INTERCOM_TICKET_TYPE_ID", default=""),
        # The teammate (admin id) notes, replies and comments from Switchboard are written as; unset, notes
        # are written as the token's own (replies need it).
        "INTERCOM_ADMIN_ID": env.str("INTERCOM_ADMIN_ID", default=""),
        # The app's client secret (Developer Hub → Basic information), which signs its webhook's
        # notifications; without it every notification is refused (401). And notifications per address.
        WEBHOOK_SECRET: env.str(WEBHOOK_SECRET, default=""),
        "INTERCOM_WEBHOOK_RATE_LIMIT": env.str("INTERCOM_WEBHOOK_RATE_LIMIT", default="600/m"),
    }


def record_url(external_id: str) -> str:
    return ""  # a contact's page needs the workspace's app id, which Switchboard is not given
