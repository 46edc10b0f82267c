"""Intercom's settings, published limit and record links."""

import environ

__all__ = ["CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "record_url", "settings_from_env"]

NAME = "intercom"
LABEL = "Intercom"
SYSTEMS = ("crm", "support")
CREDENTIALS = ("INTERCOM_ACCESS_TOKEN",)  # settings that must all be set
# Per app, enforced in 10-second slices (on the order of 10,000 calls a minute): kept well under.
RATE_LIMIT = ("INTERCOM_RATE_LIMIT", 1000, 10)


def settings_from_env(env: environ.Env) -> dict:
    return {
        "INTERCOM_ACCESS_TOKEN": env.str("INTERCOM_ACCESS_TOKEN", default=""),
        "INTERCOM_BASE_URL": env.str("INTERCOM_BASE_URL", default="") or "https://api.intercom.io",
        # The ticket type tickets are created with (support desk only).
        "INTERCOM_TICKET_TYPE_ID": env.str("INTERCOM_TICKET_TYPE_ID", default=""),
    }


def record_url(external_id: str) -> str:
    return ""  # a contact's page needs the workspace's app id, which Switchboard is not given
