"""A readable difference between two versions of a rule set: one line per value that changed."""

import json
from dataclasses import dataclass

ABSENT = object()


@dataclass(frozen=True)
class Change:
    path: str
    before: object
    after: object

    @property
    def kind(self) -> str:
        return "added" if self.before is ABSENT else "removed" if self.after is ABSENT else "changed"

    @property
    def before_text(self) -> str:
        return show(self.before)

    @property
    def after_text(self) -> str:
        return show(self.after)


def show(value: object) -> str:
    if value is ABSENT:
        return "—"
    if isinstance(value, str):
        return value or '""'
    return json.dumps(value, sort_keys=True)


def flatten(value: object, prefix: str = "") -> dict[str, object]:
    """Leaf values by path (``tickets.past_due.subject``, ``routes[2].group``); lists of plain
    values stay whole, since a tag list reads better as one value than as numbered items. An empty
    mapping inside the rules holds no value of its own: filling it is only its new entries."""
    if isinstance(value, dict) and (value or prefix):
        out: dict[str, object] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and value and any(isinstance(item, dict | list) for item in value):
        out = {}
        for n, item in enumerate(value, start=1):
            out.update(flatten(item, f"{prefix}[{n}]"))
        return out
    return {prefix: value}


def json_diff(before: object, after: object) -> list[Change]:
    """What changed from ``before`` to ``after``, in the order of ``after`` and then what was removed."""
    old, new = flatten(before), flatten(after)
    changes = [Change(path, old.get(path, ABSENT), value) for path, value in new.items() if old.get(path, ABSENT) != value]
    changes += [Change(path, value, ABSENT) for path, value in old.items() if path not in new]
    return changes
