"""Circle's settings, published limit and record links."""

import environ

__all__ = ["CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "record_url", "settings_from_env"]

NAME = "circle"
LABEL = "Circle"
SYSTEMS = ("community",)
CREDENTIALS = ("CIRCLE_API_TOKEN",)  # settings that must all be set
# Admin API: 2000 requests per 5 minutes per IP address (Circle warns the figure may change).
RATE_LIMIT = ("CIRCLE_RATE_LIMIT", 2000, 300)


def settings_from_env(env: environ.Env) -> dict:
    return {
        "CIRCLE_API_TOKEN": env.str("CIRCLE_API_TOKEN", default=""),
        "CIRCLE_BASE_URL": env.str("CIRCLE_BASE_URL", default="") or "https://app.circle.so/api/admin/v2",
    }


def record_url(external_id: str) -> str:
    return ""  # a member's page lives under the community's own domain, which Switchboard is not given
