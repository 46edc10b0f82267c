"""Kit's settings, published limit and record links."""

import environ

__all__ = ["CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "record_url", "settings_from_env"]

NAME = "kit"
LABEL = "Kit"
SYSTEMS = ("email",)
CREDENTIALS = ("KIT_API_KEY",)  # settings that must all be set
# Per API key: 120 requests in a 60-second window (600 for an OAuth token).
RATE_LIMIT = ("KIT_RATE_LIMIT_PER_MINUTE", 120, 60)


def settings_from_env(env: environ.Env) -> dict:
    return {
        "KIT_API_KEY": env.str("KIT_API_KEY", default=""),
        "KIT_BASE_URL": env.str("KIT_BASE_URL", default="") or "https://api.kit.com",
    }


def record_url(external_id: str) -> str:
    return f"https://app.kit.com/subscribers/{external_id}"
