"""The rules an endpoint lives by, apart from where it is stored: which URLs may be registered, and
when an endpoint that keeps failing is switched off (as Stripe and Svix do)."""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

DEFAULT_FAILING_DAYS = 5


def url_problem(url: str, *, allow_http: bool) -> str:
    """Why ``url`` cannot be an endpoint, "" when it can: https only, unless ``allow_http`` (DEBUG)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "Enter a full address starting with https://."
    if parts.scheme == "http" and not allow_http:
        return "Endpoints must use https."
    if parts.username or parts.password:
        return "Put credentials in the receiver's checks, not in the address."
    return ""


def failing_too_long(failing_since: datetime | None, now: datetime, days: int = DEFAULT_FAILING_DAYS) -> bool:
    """True when every delivery since ``failing_since`` failed for ``days`` days or more: switch it off."""
    return failing_since is not None and now - failing_since >= timedelta(days=days)
