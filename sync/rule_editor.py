"""The mapping rules as a form of rows, and back.

``rows_for`` turns one system's rule set into the rows a person edits (one per
status or per plan); ``rules_from_post`` reads the submitted rows back into a
rule set, checking each value as what it is (tags are words, Circle spaces are
numbers, a ticket priority is one of four). Values the form does not show (a
ticket's extra settings) are carried over from the version being edited, so
saving the form unchanged saves the same rules.
"""

from dataclasses import dataclass, field

from customers.models import CustomerStatus, System
from sync.rules import PLANNERS, PRIORITIES, PlannedJob

STATUS_LABELS = dict(CustomerStatus.choices)
PRIORITY_CHOICES = [p for p in ("low", "normal", "high", "urgent") if p in PRIORITIES]
BLANK_PLAN_ROWS = 2


@dataclass
class Cell:
    name: str  # the input's name
    value: object
    error: str = ""


@dataclass
class Row:
    """One line of the form: a status or a plan, and its cells by what they hold (stage, tags, ...)."""

    key: str
    label: str
    fields: dict[str, Cell] = field(default_factory=dict)


@dataclass
class Editor:
    system: str
    status_rows: list[Row]
    plan_rows: list[Row]
    extras: dict[str, Cell]
    errors: dict[str, str]

    @property
    def problems(self) -> list[str]:
        return list(self.errors.values())


def tags_text(tags) -> str:
    return ", ".join(tags or [])


def parse_tags(text: str, label: str, errors: dict[str, str], name: str) -> list[str]:
    tags = [t.strip() for t in (text or "").split(",") if t.strip()]
    bad = [t for t in tags if any(c.isspace() for c in t)]
    if bad:
        errors[name] = f"{label}: tags are single words separated by commas ({bad[0]!r} has a space)."
    return tags


def rows_for(system: str, rules: dict, data=None, errors: dict[str, str] | None = None) -> Editor:
    """The editor's rows for ``rules``, or for the submitted ``data`` when it is given (showing it again)."""
    def cell(name: str, stored) -> Cell:
        return Cell(name, stored if data is None else data.get(name, ""), (errors or {}).get(name, ""))

    status_rows, plan_rows, extras = [], [], {}
    for status, label in CustomerStatus.choices:
        row = Row(status, label)
        if system == System.CRM:
            stage = rules.get("lifecycle_stage", {}).get(status, "")
            row.fields["stage"] = cell(f"lifecycle_stage__{status}", stage)
            row.fields["tags"] = cell(f"status_tags__{status}", tags_text(rules.get("status_tags", {}).get(status)))
        elif system == System.SUPPORT:
            ticket = (rules.get("tickets") or {}).get(status) or {}
            row.fields["subject"] = cell(f"ticket__{status}__subject", ticket.get("subject", ""))
            row.fields["priority"] = cell(f"ticket__{status}__priority", ticket.get("priority", "normal"))
            row.fields["tags"] = cell(f"ticket__{status}__tags", tags_text(ticket.get("tags")))
        elif system == System.COMMUNITY:
            granted = status in (rules.get("access_statuses") or [])
            name = f"access__{status}"
            row.fields["access"] = Cell(name, granted if data is None else bool(data.get(name)))
        elif system == System.EMAIL:
            row.fields["tags"] = cell(f"status_tags__{status}", tags_text(rules.get("status_tags", {}).get(status)))
        status_rows.append(row)
    if system == System.COMMUNITY:
        stored = list((rules.get("plan_spaces") or {}).items())
        count = len(stored) + BLANK_PLAN_ROWS if data is None else _submitted_rows(data, "space_plan__")
        for n in range(count):
            plan, spaces = stored[n] if n < len(stored) else ("", [])
            row = Row(str(n), "")
            row.fields["plan"] = cell(f"space_plan__{n}", plan)
            row.fields["spaces"] = cell(f"space_ids__{n}", ", ".join(str(x) for x in spaces))
            plan_rows.append(row)
    if system == System.EMAIL:
        extras["plan_tag_prefix"] = cell("plan_tag_prefix", rules.get("plan_tag_prefix", ""))
    return Editor(system, status_rows, plan_rows, extras, errors or {})


def _submitted_rows(data, prefix: str) -> int:
    numbers = [int(k[len(prefix):]) for k in data if k.startswith(prefix) and k[len(prefix):].isdigit()]
    return min(max(numbers, default=-1) + 1, 200)


def rules_from_post(system: str, data, current: dict) -> tuple[dict, dict[str, str]]:
    """The rule set the submitted rows describe, and what is wrong with them (input name -> sentence)."""
    errors: dict[str, str] = {}
    readers = {System.CRM: _crm, System.SUPPORT: _support, System.COMMUNITY: _community, System.EMAIL: _email}
    return readers[system](data, current, errors), errors


def _crm(data, current: dict, errors: dict) -> dict:
    stages, tags = {}, {}
    for status, label in CustomerStatus.choices:
        stage = data.get(f"lifecycle_stage__{status}", "").strip()
        if len(stage) > 100:
            errors[f"lifecycle_stage__{status}"] = f"{label}: a lifecycle stage is at most 100 characters."
        if stage:
            stages[status] = stage
        name = f"status_tags__{status}"
        found = parse_tags(data.get(name, ""), label, errors, name)
        if found or status in current.get("status_tags", {}):
            tags[status] = found
    return {**current, "lifecycle_stage": stages, "status_tags": tags}


def _support(data, current: dict, errors: dict) -> dict:
    tickets = {}
    old = current.get("tickets") or {}
    for status, label in CustomerStatus.choices:
        prefix = f"ticket__{status}__"
        subject = data.get(prefix + "subject", "").strip()
        priority = data.get(prefix + "priority", "normal") or "normal"
        tags = parse_tags(data.get(prefix + "tags", ""), label, errors, prefix + "tags")
        if not subject:
            if tags:
                errors[prefix + "subject"] = f"{label}: a ticket needs a subject (or clear its tags)."
            continue
        if priority not in PRIORITIES:
            errors[prefix + "priority"] = f"{label}: priority is one of {', '.join(PRIORITY_CHOICES)}."
        ticket = dict(old.get(status) or {})  # keeps settings this form does not show
        ticket["subject"] = subject[:200]
        if "priority" in ticket or priority != "normal":
            ticket["priority"] = priority
        if "tags" in ticket or tags:
            ticket["tags"] = tags
        tickets[status] = ticket
    return {**current, "tickets": tickets}


def _community(data, current: dict, errors: dict) -> dict:
    chosen = {status for status in CustomerStatus.values if data.get(f"access__{status}")}
    # Keep the stored order of those still chosen, then the new ones in status order.
    access = [s for s in current.get("access_statuses", []) if s in chosen]
    access += [s for s in CustomerStatus.values if s in chosen and s not in access]
    spaces: dict[str, list[int]] = {}
    for n in range(_submitted_rows(data, "space_plan__")):
        plan = data.get(f"space_plan__{n}", "").strip()
        text = data.get(f"space_ids__{n}", "")
        ids = [t.strip() for t in text.split(",") if t.strip()]
        if not plan:
            if ids:
                errors[f"space_plan__{n}"] = "Name the plan these spaces are for (* for every other plan)."
            continue
        if plan in spaces:
            errors[f"space_plan__{n}"] = f"The plan {plan!r} is listed twice."
        bad = [t for t in ids if not t.isdigit()]
        if bad:
            errors[f"space_ids__{n}"] = f"Circle space ids are numbers: {bad[0]!r} is not one."
        spaces[plan] = [int(t) for t in ids if t.isdigit()]
    return {**current, "access_statuses": access, "plan_spaces": spaces}


def _email(data, current: dict, errors: dict) -> dict:
    tags = {}
    for status, label in CustomerStatus.choices:
        name = f"status_tags__{status}"
        found = parse_tags(data.get(name, ""), label, errors, name)
        if found or status in current.get("status_tags", {}):
            tags[status] = found
    prefix = data.get("plan_tag_prefix", "").strip()
    if any(c.isspace() for c in prefix):
        errors["plan_tag_prefix"] = "The plan tag prefix is one word (like plan-)."
    return {**current, "status_tags": tags, "plan_tag_prefix": prefix}


# A customer's usual path through billing, for the preview.
PREVIEW_STEPS = [
    (None, CustomerStatus.TRIAL),
    (CustomerStatus.TRIAL, CustomerStatus.ACTIVE),
    (CustomerStatus.ACTIVE, CustomerStatus.PAST_DUE),
    (CustomerStatus.PAST_DUE, CustomerStatus.ACTIVE),
    (CustomerStatus.ACTIVE, CustomerStatus.CANCELED),
    (None, CustomerStatus.NEEDS_REVIEW),
]


@dataclass(frozen=True)
class PreviewStep:
    label: str
    jobs: list[PlannedJob]
    changed: bool  # differs from what the rules in force send


def preview(system: str, rules: dict, *, sample: dict, compare_with: dict | None = None) -> list[PreviewStep]:
    """What ``system`` would be sent for the sample customer at each step of a usual billing life."""
    planner = PLANNERS[system]
    steps = []
    for before, after in PREVIEW_STEPS:
        old = {**sample, "status": before}
        new = {**sample, "status": after}
        jobs = planner(rules, old, new)
        was = planner(compare_with, old, new) if compare_with is not None else jobs
        label = f"{STATUS_LABELS[before]} → {STATUS_LABELS[after]}" if before else f"Becomes {STATUS_LABELS[after].lower()}"
        steps.append(PreviewStep(label, jobs, was != jobs))
    return steps
