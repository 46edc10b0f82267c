"""Zendesk's settings (its API and its webhook), published limit and record links."""

import environ
from django.conf import settings

__all__ = [
    "CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "WEBHOOK_SECRET", "record_url", "settings_from_env",
    "ticket_url",
]

NAME = "zendesk"
LABEL = "Zendesk"
SYSTEMS = ("support",)
CREDENTIALS = ("ZENDESK_BASE_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN")  # settings that must all be set
# Per account and minute, by plan: about 200 to 700 (2500 with High Volume); the lowest unless told.
RATE_LIMIT = ("ZENDESK_RATE_LIMIT_PER_MINUTE", 200, 60)
# Without it every delivery to the webhook is refused (401).
WEBHOOK_SECRET = "SUPPORT_WEBHOOK_SECRET"


def settings_from_env(env: environ.Env) -> dict:
    subdomain = env.str("ZENDESK_SUBDOMAIN", default="")
    return {
        "ZENDESK_SUBDOMAIN": subdomain,
        "ZENDESK_EMAIL": env.str("ZENDESK_EMAIL", default=""),
        "ZENDESK_API_TOKEN": env.str("ZENDESK_API_TOKEN", default=""),
        "ZENDESK_BASE_URL": env.str("ZENDESK_BASE_URL", default="")
        or (f"https://{subdomain}.zendesk.com" if subdomain else ""),
        # The webhook's signing secret, how old a signature may be, and deliveries per client address.
        WEBHOOK_SECRET: env.str(WEBHOOK_SECRET, default=""),
        "SUPPORT_WEBHOOK_TOLERANCE": env.int("SUPPORT_WEBHOOK_TOLERANCE", default=300),
        "SUPPORT_WEBHOOK_RATE_LIMIT": env.str("SUPPORT_WEBHOOK_RATE_LIMIT", default="600/m"),
    }


def record_url(external_id: str) -> str:
    """The user in Zendesk's agent interface (the links Switchboard keeps for the desk are users)."""
    base = settings.ZENDESK_BASE_URL.rstrip("/")
    return f"{base}/agent/users/{external_id}" if base else ""


def ticket_url(external_id: str) -> str:
    """A ticket in Zendesk's agent interface."""
    base = settings.ZENDESK_BASE_URL.rstrip("/")
    return f"{base}/agent/tickets/{external_id}" if base and str(external_id).isdigit() else ""
