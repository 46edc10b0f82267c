"""Small display helpers shared by every screen."""

import json
from datetime import datetime
from urllib.parse import urlencode

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
def seconds(value) -> str:
    """A duration in seconds as a person reads it: "35 ms", "4.2 s", "12 min", "3.5 h", "12.3 d"; "—" for none."""
    if value is None:
        return "—"
    value = float(value)
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 120:
        return f"{value:.1f} s"
    if value < 2 * 3600:
        return f"{value / 60:.0f} min"
    if value < 2 * 86400:
        return f"{value / 3600:.1f} h"
    return f"{value / 86400:.1f} d"


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
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _plain(value) -> str:
    """A recorded value in words: nothing as "—", yes/no, lists and mappings inline."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_plain(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(item) for item in value)
    return str(value)


@register.filter
def change_lines(changes) -> list[tuple[str, str, bool]]:
    """An audit entry's recorded changes as (field, text, is_block) lines: ``[before, after]`` reads
    "before → after", a value with nesting deeper than one level stays JSON (shown as a block)."""
    lines = []
    for field, value in (changes or {}).items():
        if isinstance(value, list) and len(value) == 2 and not any(isinstance(v, (dict, list)) for v in value):
            lines.append((field, f"{_plain(value[0])} → {_plain(value[1])}", False))
        elif isinstance(value, (dict, list)) and any(isinstance(v, (dict, list)) for v in
                                                     (value.values() if isinstance(value, dict) else value)):
            lines.append((field, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str), True))
        else:
            lines.append((field, _plain(value), False))
    return lines


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


@register.simple_tag(takes_context=True)
def page_number(context, page) -> int:
    """Where a keyset page sits (the links carry it along): 1 whenever nothing comes before it."""
    if not page.prev_cursor:
        return 1
    try:
        return max(2, int(context["request"].GET.get("page", "2")))
    except ValueError:
        return 2


@register.simple_tag(takes_context=True)
def sort_header(context, key: str, label: str, first: str = "-"):
    """A column header that sorts the list by ``key`` (``first`` is the direction of the first click)
    and says how the list is sorted now."""
    current = context["request"].GET.get("sort", "")
    if current.lstrip("-") == key:
        descending = current.startswith("-")
        state, mark, flip = ("descending", "▼", key) if descending else ("ascending", "▲", f"-{key}")
    else:
        state, mark, flip = "", "", f"{first if first == '-' else ''}{key}"
    href = query_with(context, sort=flip, cursor="", page="")
    return format_html(
        '<th scope="col"{}><a class="sort" href="{}">{} <span class="sort-mark" aria-hidden="true">{}</span>'
        '<span class="visually-hidden">{}</span></a></th>',
        format_html(' aria-sort="{}"', state) if state else "", href, label, mark or "↕",
        f", sorted {state}" if state else ", sort by this column",
    )


@register.inclusion_tag("_filter_chips.html", takes_context=True)
def filter_chips(context, form, *ignored: str) -> dict:
    """What a list is filtered by, one chip each, each a link that removes it."""
    params = context["request"].GET
    chips = []
    for name, field in form.fields.items():
        value = params.get(name, "").strip()
        if not value or name in ("cursor", *ignored):
            continue
        shown = dict(getattr(field, "choices", []) or []).get(value, value)
        label = field.label or name.replace("_", " ").capitalize()
        chips.append({"label": label, "value": shown, "href": query_with(context, **{name: "", "cursor": "", "page": ""})})
    keep = {"sort": params["sort"]} if params.get("sort") else {}
    return {"chips": chips, "clear": "?" + urlencode(keep)}
