"""HubSpot's settings, published limit and record links."""

import environ

__all__ = ["CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "record_url", "settings_from_env"]

NAME = "hubspot"
LABEL = "HubSpot"
SYSTEMS = ("crm",)
CREDENTIALS = ("HUBSPOT_ACCESS_TOKEN",)  # settings that must all be set
# Per portal, in 10-second windows: about 100 to 190 requests for a private app, by tier;
# the lowest unless told.
RATE_LIMIT = ("HUBSPOT_RATE_LIMIT", 100, 10)


def settings_from_env(env: environ.Env) -> dict:
    return {
        "HUBSPOT_ACCESS_TOKEN": env.str("HUBSPOT_ACCESS_TOKEN", default=""),
        "HUBSPOT_BASE_URL": env.str("HUBSPOT_BASE_URL", default="") or "https://api.hubapi.com",
        # The contact property upserts are keyed by: switchboard_id (our id) or email.
        "HUBSPOT_ID_PROPERTY": env.str("HUBSPOT_ID_PROPERTY", default="") or "switchboard_id",
    }


def record_url(external_id: str) -> str:
    return f"https://app.hubspot.com/contacts/_/contact/{external_id}"
