"""The support routing rules as a form of rows, and back.

Billing facts are one row each (the ticket a Stripe event opens); routes are rows in
the order they are checked, each with a position to move it and a box to remove it,
and blank rows to add one. Values are checked as what they are; settings the form does
not show are carried over from the version being edited, so saving it unchanged saves
the same rules.
"""

from dataclasses import dataclass, field

from support.models import TicketCategory
from support.rules import FACTS, PRIORITY_ORDER, STATES, route

CATEGORY_LABELS = dict(TicketCategory.choices)
BLANK_ROUTES = 2
FACT_ORDER = ["invoice.payment_failed", "charge.dispute.created", "customer.subscription.trial_will_end"]


@dataclass
class Cell:
    name: str
    value: object
    error: str = ""


@dataclass
class Row:
    key: str
    fields: dict[str, Cell] = field(default_factory=dict)


@dataclass
class RoutingEditor:
    facts: list[Row]
    routes: list[Row]
    errors: dict[str, str]

    @property
    def problems(self) -> list[str]:
        return list(self.errors.values())


def _tags(tags) -> str:
    return ", ".join(tags or []) if isinstance(tags, list) else str(tags or "")


def _facts_in_order(rules: dict) -> list[str]:
    stored = list((rules.get("billing_facts") or {}))
    return [f for f in FACT_ORDER if f in FACTS] + [f for f in stored if f not in FACT_ORDER]


def routing_rows(rules: dict, data=None, errors: dict[str, str] | None = None) -> RoutingEditor:
    """The rows for ``rules``, or the submitted ``data`` shown again (with ``errors`` by input name)."""
    errors = errors or {}

    def cell(name: str, stored) -> Cell:
        value = stored if data is None else data.get(name, "")
        return Cell(name, value, errors.get(name, ""))

    facts = []
    stored_facts = rules.get("billing_facts") or {}
    for fact in _facts_in_order(rules):
        spec = stored_facts.get(fact) or {}
        row = Row(fact)
        prefix = f"fact__{fact}__"
        row.fields["subject"] = cell(prefix + "subject", spec.get("subject", ""))
        row.fields["category"] = cell(prefix + "category", spec.get("category", ""))
        row.fields["priority"] = cell(prefix + "priority", spec.get("priority", ""))
        row.fields["tags"] = cell(prefix + "tags", _tags(spec.get("tags")))
        enabled = bool(spec) and spec.get("enabled", True)
        row.fields["enabled"] = Cell(prefix + "enabled", enabled if data is None else bool(data.get(prefix + "enabled")))
        facts.append(row)
    stored_routes = rules.get("routes") or []
    count = len(stored_routes) + BLANK_ROUTES if data is None else _submitted(data)
    routes = []
    for n in range(count):
        spec = stored_routes[n] if n < len(stored_routes) and data is None else {}
        row = Row(str(n + 1))  # "Route 1" is the first, as its position and its error messages say
        prefix = f"route__{n}__"
        row.fields["position"] = cell(prefix + "position", str(n + 1))
        row.fields["category"] = cell(prefix + "category", spec.get("category", "*"))
        row.fields["plan"] = cell(prefix + "plan", "" if spec.get("plan", "*") == "*" else spec.get("plan"))
        row.fields["state"] = cell(prefix + "state", spec.get("state", "*"))
        row.fields["priority"] = cell(prefix + "priority", spec.get("priority", ""))
        row.fields["group"] = cell(prefix + "group", spec.get("group", ""))
        row.fields["tags"] = cell(prefix + "tags", _tags(spec.get("tags")))
        row.fields["remove"] = Cell(prefix + "remove", False if data is None else bool(data.get(prefix + "remove")))
        row.fields["known"] = cell(prefix + "known", "1" if n < len(stored_routes) else "")
        routes.append(row)
    return RoutingEditor(facts, routes, errors)


def _submitted(data) -> int:
    numbers = [int(k.split("__")[1]) for k in data if k.startswith("route__") and k.split("__")[1].isdigit()]
    return min(max(numbers, default=-1) + 1, 200)


def _parse_tags(text: str, label: str, name: str, errors: dict) -> list[str]:
    tags = [t.strip() for t in (text or "").split(",") if t.strip()]
    if any(any(c.isspace() for c in t) for t in tags):
        errors[name] = f"{label}: tags are single words separated by commas."
    return tags


def routing_from_post(data, current: dict) -> tuple[dict, dict[str, str]]:
    """The rule set the submitted rows describe, and what is wrong with them (input name -> sentence)."""
    errors: dict[str, str] = {}
    old_facts = current.get("billing_facts") or {}
    facts = {}
    for fact in _facts_in_order(current):
        prefix = f"fact__{fact}__"
        subject = data.get(prefix + "subject", "").strip()
        if not subject:
            continue
        spec = dict(old_facts.get(fact) or {})  # keeps settings the form does not show
        spec["subject"] = subject[:200]
        for key in ("category", "priority"):
            value = data.get(prefix + key, "").strip()
            allowed = CATEGORY_LABELS if key == "category" else PRIORITY_ORDER
            if value and value not in allowed:
                errors[prefix + key] = f"{fact}: {key} must be one of {', '.join(allowed)}."
            if value:
                spec[key] = value
            else:
                spec.pop(key, None)
        tags = _parse_tags(data.get(prefix + "tags", ""), fact, prefix + "tags", errors)
        if tags or "tags" in spec:
            spec["tags"] = tags
        enabled = bool(data.get(prefix + "enabled"))
        if not enabled:
            spec["enabled"] = False
        elif "enabled" in spec:
            spec["enabled"] = True
        facts[fact] = spec
    old_routes = current.get("routes") or []
    placed = []
    for n in range(_submitted(data)):
        prefix = f"route__{n}__"
        if data.get(prefix + "remove"):
            continue
        values = {k: data.get(prefix + k, "").strip() for k in ("category", "plan", "state", "priority", "group", "tags")}
        known = data.get(prefix + "known") == "1" and n < len(old_routes)
        if not known and not any(values[k] for k in ("plan", "priority", "group", "tags")) and values["category"] in ("", "*") \
                and values["state"] in ("", "*"):
            continue  # a blank row left blank
        label = f"Route {n + 1}"
        spec = {k: v for k, v in (old_routes[n] if known else {}).items()
                if k not in ("category", "plan", "state", "priority", "group", "tags")}
        for key, allowed in (("category", CATEGORY_LABELS), ("state", STATES)):
            value = values[key]
            if value and value != "*" and value not in allowed:
                errors[prefix + key] = f"{label}: {key} must be one of {', '.join(sorted(allowed))} or any."
            if value and value != "*":
                spec[key] = value
            elif known and old_routes[n].get(key) == "*":
                spec[key] = "*"
        if values["plan"]:
            spec["plan"] = values["plan"]
        elif known and old_routes[n].get("plan") == "*":
            spec["plan"] = "*"
        if values["priority"]:
            if values["priority"] not in PRIORITY_ORDER:
                errors[prefix + "priority"] = f"{label}: priority must be one of {', '.join(PRIORITY_ORDER)}."
            spec["priority"] = values["priority"]
        if values["group"] or (known and "group" in old_routes[n]):
            spec["group"] = values["group"]
        tags = _parse_tags(values["tags"], label, prefix + "tags", errors)
        if tags or (known and "tags" in old_routes[n]):
            spec["tags"] = tags
        position = data.get(prefix + "position", "").strip()
        if position and not position.isdigit():
            errors[prefix + "position"] = f"{label}: the position is a number."
        order = int(position) if position.isdigit() else n + 1
        # A route moved to a taken position goes before the one already there.
        placed.append((order, order == n + 1, n, _in_key_order(spec, old_routes[n] if known else {})))
    routes = [spec for *_, spec in sorted(placed, key=lambda p: p[:3])]
    return {**current, "billing_facts": facts, "routes": routes}, errors


def _in_key_order(spec: dict, old: dict) -> dict:
    keys = [k for k in old if k in spec] + [k for k in spec if k not in old]
    return {k: spec[k] for k in keys}


# Who writes in, for the preview: the billing states their tickets carry.
SAMPLE_SENDERS = [
    ("a paying customer", {"active", "paying"}),
    ("a customer who just paid", {"active", "paying", "just-paid-no-access"}),
    ("a past-due customer", {"past-due"}),
    ("a trial", {"trial"}),
    ("an unknown sender", {"unknown-customer"}),
]


def routing_preview(rules: dict, *, plan: str, compare_with: dict | None = None) -> list[dict]:
    """Where a message of each category from each kind of sender would go (group and priority)."""
    rows = []
    for category, label in TicketCategory.choices:
        cells, changed = [label], False
        for _, states in SAMPLE_SENDERS:
            found = route(rules, category=category, plan=plan, states=states)
            if compare_with is not None and route(compare_with, category=category, plan=plan, states=states) != found:
                changed = True
            cells.append(f"{found.group or 'no group'} · {found.priority}")
        if changed:
            cells[0] = f"{label} (differs from now)"
        rows.append({"cells": cells, "changed": changed})
    return rows
