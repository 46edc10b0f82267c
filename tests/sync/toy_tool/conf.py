"""Toy CRM's settings, published limit and record links."""

import environ

__all__ = ["CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "record_url", "settings_from_env"]

NAME = "toycrm"
LABEL = "Toy CRM"
SYSTEMS = ("crm",)
CREDENTIALS = ("TOYCRM_API_KEY",)
RATE_LIMIT = ("TOYCRM_RATE_LIMIT", 30, 10)


def settings_from_env(env: environ.Env) -> dict:
    return {
        "TOYCRM_API_KEY": env.str("TOYCRM_API_KEY", default=""),
        "TOYCRM_BASE_URL": env.str("TOYCRM_BASE_URL", default="") or "https://api.toycrm.example",
    }


def record_url(external_id: str) -> str:
    return f"https://app.toycrm.example/people/{external_id}"
