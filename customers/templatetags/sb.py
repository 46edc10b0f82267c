"""Small display helpers shared by every screen."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

from core.money import format_money

register = template.Library()


def relative(value: datetime, now: datetime | None = None) -> str:
    now = now or timezone.now()
    seconds = int((now - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 45:
        text = "just now" if not future else "in a moment"
        return text
    for size, unit in ((86400 * 365, "y"), (86400 * 30, "mo"), (86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            amount = round(seconds / size) if unit == "min" else seconds // size
            break
    else:  # pragma: no cover - seconds >= 45 always reaches "min"
        amount, unit = 1, "min"
    return f"in {amount} {unit}" if future else f"{amount} {unit} ago"


@register.simple_tag
def when(value: datetime | None, empty: str = "—"):
    """``3 min ago`` with the exact time on hover."""
    if not value:
        return empty
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M:%S %Z"),
        relative(value),
    )


@register.filter
def money(amount, currency: str = "") -> str:
    if amount in (None, ""):
        return "—"
    return format_money(int(amount), currency)


STATUS_CLASSES = {
    "active": "text-bg-success",
    "trial": "text-bg-info",
    "past_due": "text-bg-warning",
    "canceled": "text-bg-secondary",
    "needs_review": "text-bg-danger",
    "succeeded": "text-bg-success",
    "processed": "text-bg-success",
    "pending": "text-bg-light border",
    "received": "text-bg-light border",
    "running": "text-bg-info",
    "retrying": "text-bg-warning",
    "dead": "text-bg-danger",
    "set_aside": "text-bg-secondary",
    "failed": "text-bg-danger",
    "ignored": "text-bg-secondary",
    "synced": "text-bg-success",
    "never": "text-bg-light border",
    "paused": "text-bg-warning",
}


@register.simple_tag
def badge(value: str, label: str = ""):
    return format_html(
        '<span class="badge {}">{}</span>',
        STATUS_CLASSES.get(value, "text-bg-light border"),
        label or str(value).replace("_", " "),
    )


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters changed (empty values removed)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def pretty_json(value) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def having(items, spec: str) -> list:
    """The items whose attribute matches: ``rows|having:"payment_failed"`` (truthy),
    ``rows|having:"state=failed"``, ``rows|having:"status!=solved"``."""
    negate = "!=" in spec
    name, _, wanted = spec.partition("!=" if negate else "=")
    picked = []
    for item in items or ():
        value = getattr(item, name, None)
        matches = str(value) == wanted if wanted or "=" in spec else bool(value)
        if matches != negate:
            picked.append(item)
    return picked
