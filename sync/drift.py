"""What each outside tool should hold for one customer, and how what it holds differs.

Pure functions over the customer's billing state, the mapping rules and a tool's ``Snapshot``:
no database, no HTTP. ``sync/services/drift.py`` reads the tools and records the differences;
this module decides what counts as one, what a person reads about it, and which outbox jobs
put the tool right.
"""

from dataclasses import dataclass

from customers.models import System
from sync.models import DriftKind
from sync.providers.common import REMOVE_SPACES
from sync.providers.reading import Snapshot
from sync.rules import (
    STATUSES,
    PlannedJob,
    community_spaces,
    email_tags,
    managed_spaces,
    plan_community,
    plan_crm,
    plan_email,
    plan_support,
)

# Fields whose values are money-related: finance may act on them too.
MONEY_FIELDS = {"plan", "mrr"}
TAG = "tag:"  # field of one email tag: "tag:customer"
_NOTHING = {"status": None, "plan": None, "mrr": None, "currency": None}


@dataclass(frozen=True)
class Difference:
    kind: str
    field: str = ""
    expected: str = ""
    actual: str = ""
    external_id: str = ""


def state_of(customer) -> dict:
    return {"status": customer.status, "plan": customer.plan or None, "mrr": customer.mrr,
            "currency": customer.currency or None}


def should_exist(system: str, rules: dict, state: dict) -> bool:
    """Does billing truth say the tool should hold a record of this customer at all?"""
    if system == System.COMMUNITY:
        return state["status"] in set(rules.get("access_statuses", []))
    if system == System.EMAIL:
        return bool(email_tags(rules, state))
    return True  # the CRM and the desk keep every customer, canceled ones too


def _managed_tags(rules: dict, tags: frozenset) -> set[str]:
    """The tags the mapping rules own: others (set by hand, by another tool) are none of ours."""
    owned = {t for values in rules.get("status_tags", {}).values() for t in values}
    prefix = rules.get("plan_tag_prefix") or ""
    return {t for t in tags if t in owned or (prefix and t.startswith(prefix))}


def differences(*, system: str, rules: dict, customer, snapshot: Snapshot | None, keyed_by_id: bool) -> list[Difference]:
    """Every way ``snapshot`` (None: the tool has no record) differs from what it should be."""
    state = state_of(customer)
    wanted = should_exist(system, rules, state)
    if snapshot is None:
        if not wanted:
            return []
        return [Difference(DriftKind.ACCESS_MISSING if system == System.COMMUNITY else DriftKind.MISSING)]
    found: list[Difference] = []
    ext = snapshot.external_id
    if not wanted and system == System.COMMUNITY:
        return [Difference(DriftKind.ACCESS_EXTRA, "access", "absent", "present", ext)]
    # A tool keyed by our id can hold another email; one keyed by email cannot.
    if keyed_by_id and snapshot.email and customer.email and snapshot.email.casefold() != customer.email.casefold():
        found.append(Difference(DriftKind.IDENTITY_MISMATCH, "email", customer.email, snapshot.email, ext))
    if system == System.CRM:
        stage = rules.get("lifecycle_stage", {}).get(state["status"] or "", "")
        found += _values(snapshot, {"status": state["status"] or "", "plan": state["plan"] or "",
                                    "lifecycle_stage": stage}, ext)
        if snapshot.tags is not None:  # a CRM that tags its contacts: the rules' status tags
            found += _tags(set(rules.get("status_tags", {}).get(state["status"] or "", [])),
                           _managed_tags({"status_tags": rules.get("status_tags", {})}, snapshot.tags), ext)
    elif system == System.SUPPORT:
        found += _desk_status(snapshot, state["status"] or "", ext)
    elif system == System.COMMUNITY and snapshot.spaces is not None:
        spaces = set(community_spaces(rules, state["plan"]))
        lacking = sorted(spaces - set(snapshot.spaces))
        if lacking:
            found.append(Difference(DriftKind.ACCESS_MISSING, "spaces", _join(spaces), _join(snapshot.spaces), ext))
        if _extra_spaces(rules, state["plan"], snapshot.spaces):  # a space another plan gives (a downgrade)
            found.append(Difference(DriftKind.ACCESS_EXTRA, "spaces", _join(spaces), _join(snapshot.spaces), ext))
    elif system == System.EMAIL and snapshot.tags is not None:
        found += _tags(email_tags(rules, state), _managed_tags(rules, snapshot.tags), ext)
    return found


def _extra_spaces(rules: dict, plan: str | None, held) -> list[int]:
    """The rules' spaces the member holds that the plan does not give; a space no rule names is not ours."""
    return sorted((set(held) & managed_spaces(rules)) - set(community_spaces(rules, plan)))


def _spaces_in(text: str) -> list[int]:
    return [int(s) for s in text.replace(",", " ").split() if s.isdigit()]


def _tags(expected: set[str], actual: set[str], ext: str) -> list[Difference]:
    return ([Difference(DriftKind.WRONG_VALUE, TAG + t, "present", "absent", ext) for t in sorted(expected - actual)]
            + [Difference(DriftKind.WRONG_VALUE, TAG + t, "absent", "present", ext) for t in sorted(actual - expected)])


def _values(snapshot: Snapshot, expected: dict, ext: str) -> list[Difference]:
    return [
        Difference(DriftKind.WRONG_VALUE, name, want, str(snapshot.values.get(name) or ""), ext)
        for name, want in expected.items()
        if want and name in snapshot.values and str(snapshot.values.get(name) or "") != want
    ]


def _desk_status(snapshot: Snapshot, status: str, ext: str) -> list[Difference]:
    """The desk carries the status as a value (sandbox) or as one of its tags (Zendesk)."""
    if "status" in snapshot.values:
        actual = str(snapshot.values.get("status") or "")
    else:
        actual = _join(STATUSES & set(snapshot.tags or ()))
    return [] if actual == status else [Difference(DriftKind.WRONG_VALUE, "status", status, actual, ext)]


def _join(values) -> str:
    return ", ".join(str(v) for v in sorted(values))


def repair_work(*, system: str, rules: dict, customer, kind: str, field: str, expected: str,
                actual: str = "") -> list[PlannedJob]:
    """The outbox jobs that put the tool right for one difference (none for an orphan: Switchboard
    never deletes a record it cannot name a customer for)."""
    if kind == DriftKind.ORPHAN:
        return []
    state = state_of(customer)
    if system == System.CRM:
        return plan_crm(rules, _NOTHING, state)
    if system == System.SUPPORT:
        return plan_support({}, _NOTHING, state)  # no ticket: a repair only puts the user right
    if system == System.COMMUNITY:
        if kind == DriftKind.ACCESS_EXTRA and field == "spaces":
            extra = _extra_spaces(rules, state["plan"], _spaces_in(actual))
            return [PlannedJob(System.COMMUNITY, REMOVE_SPACES, "", {**state, "spaces": extra})] if extra else []
        if kind == DriftKind.ACCESS_EXTRA:
            return plan_community(rules, {**state, "status": next(iter(rules.get("access_statuses", [])), "")}, state)
        return plan_community(rules, _NOTHING, state)
    if field.startswith(TAG):
        tag = field[len(TAG):]
        action = "add_tag" if expected == "present" else "remove_tag"
        return [PlannedJob(System.EMAIL, action, tag, {**state, "tag": tag})]
    return plan_email(rules, _NOTHING, state)


def sentence(*, system_label: str, kind: str, field: str, expected: str, actual: str, status: str,
             days: int | None = None) -> str:
    """The difference as a person reads it: "canceled 12 days ago, still in the Members space"."""
    since = status.replace("_", " ")
    if days is not None and status == "canceled":
        since += " today" if days < 1 else f" {days} day{'s' if days != 1 else ''} ago"
    if kind == DriftKind.MISSING:
        return f"{since.capitalize()} customer with no record in {system_label}"
    if kind == DriftKind.ACCESS_EXTRA:
        if field == "spaces":
            return f"{since.capitalize()}, in spaces the plan does not give in {system_label} (has {actual or 'none'})"
        return f"{since.capitalize()}, still a member in {system_label}"
    if kind == DriftKind.ACCESS_MISSING:
        if field == "spaces":
            return f"{since.capitalize()}, not in every space of the plan in {system_label} (has {actual or 'none'})"
        return f"{since.capitalize()}, not a member in {system_label}"
    if kind == DriftKind.IDENTITY_MISMATCH:
        return f"The record in {system_label} with our id has another email ({actual})"
    if kind == DriftKind.ORPHAN:
        return f"A record in {system_label} carries a Switchboard id no customer has ({actual})"
    if field.startswith(TAG):
        tag = field[len(TAG):]
        if expected == "absent":
            return f"{since.capitalize()}, still tagged “{tag}” in {system_label}"
        return f"{since.capitalize()}, not tagged “{tag}” in {system_label}"
    said = f"{system_label[:1].upper()}{system_label[1:]} {field.replace('_', ' ')} says {actual or 'nothing'}"
    if field == "lifecycle_stage":  # the stage is the rules' word for a status: say the status too
        return f"{said}, billing says {status.replace('_', ' ')} (stage {expected})"
    return f"{said}, billing says {expected}"
