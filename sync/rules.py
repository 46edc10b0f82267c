"""Mapping rules: what one billing change causes in each outside system.

Rules are data (``MappingRule`` rows, one version per edit); this module only
reads them. ``planned_work`` turns a before/after pair into the list of jobs to
write, each with the payload the adapter will send.
"""

import hashlib
from dataclasses import dataclass, field

from customers.models import CustomerStatus, System
from sync.providers.common import REMOVE_SPACES

STATUSES = set(CustomerStatus.values)
SYNCED_SYSTEMS = (System.CRM, System.SUPPORT, System.COMMUNITY, System.EMAIL)

DEFAULT_RULES: dict[str, dict] = {
    System.CRM: {
        # HubSpot's built-in lifecycle stages (internal values).
        "lifecycle_stage": {
            "trial": "opportunity",
            "active": "customer",
            "past_due": "customer",
            "canceled": "other",
            "needs_review": "lead",
        },
        "status_tags": {},
    },
    System.SUPPORT: {
        "tickets": {
            "past_due": {"subject": "Payment failed", "priority": "high", "tags": ["billing", "payment_failed"]},
            "canceled": {"subject": "Subscription canceled", "priority": "normal", "tags": ["billing", "churn"]},
        },
    },
    System.COMMUNITY: {
        "access_statuses": ["trial", "active", "past_due"],
        # plan name -> Circle space ids; "*" applies to every plan not listed.
        "plan_spaces": {"*": []},
    },
    System.EMAIL: {
        "status_tags": {
            "trial": ["trial"],
            "active": ["customer"],
            "past_due": ["payment-failed"],
            "canceled": ["churned"],
        },
        "plan_tag_prefix": "plan-",
    },
}

PRIORITIES = {"low", "normal", "high", "urgent"}
TICKET_ACTION = "create_ticket"  # written by support's planner (our Ticket first), never by the outbox


@dataclass(frozen=True)
class PlannedJob:
    system: str
    action: str
    key_suffix: str  # makes the idempotency key unique within one event
    payload: dict = field(default_factory=dict)


def _state(d: dict) -> dict:
    return {k: (d or {}).get(k) for k in ("status", "plan", "mrr", "currency")}


def email_tags(rules: dict, state: dict) -> set[str]:
    if not state.get("status"):
        return set()
    tags = set(rules.get("status_tags", {}).get(state["status"], []))
    prefix = rules.get("plan_tag_prefix") or ""
    if prefix and state.get("plan"):
        tags.add(prefix + slug(state["plan"]))
    return tags


def slug(value: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in str(value).lower()).split())


def community_spaces(rules: dict, plan: str | None) -> list[int]:
    spaces = rules.get("plan_spaces", {})
    return list(spaces.get(plan or "", spaces.get("*", [])))


def managed_spaces(rules: dict) -> set[int]:
    """Every space some plan gives: the spaces the rules own (one a person set up by hand is none of ours)."""
    return {space for spaces in (rules.get("plan_spaces") or {}).values() for space in spaces}


def plan_crm(rules: dict, before: dict, after: dict) -> list[PlannedJob]:
    if before == after:
        return []
    payload = {**after, "lifecycle_stage": rules.get("lifecycle_stage", {}).get(after["status"] or "", "")}
    tags = rules.get("status_tags", {}).get(after["status"] or "", [])
    if tags:
        payload["tags"] = list(tags)
    # The rules' tags of other statuses come off, so a past-due contact is no longer tagged "paid".
    stale = sorted({t for values in rules.get("status_tags", {}).values() for t in values} - set(tags))
    if stale:
        payload["remove_tags"] = stale
    return [PlannedJob(System.CRM, "upsert_contact", "", payload)]


def plan_support(rules: dict, before: dict, after: dict) -> list[PlannedJob]:
    jobs = []
    if (before["status"], before["plan"]) != (after["status"], after["plan"]):
        jobs.append(PlannedJob(System.SUPPORT, "upsert_user", "", dict(after)))
    ticket = rules.get("tickets", {}).get(after["status"] or "")
    if ticket and before["status"] != after["status"]:
        jobs.append(PlannedJob(System.SUPPORT, TICKET_ACTION, "", {**after, **ticket}))
    return jobs


def plan_community(rules: dict, before: dict, after: dict) -> list[PlannedJob]:
    allowed = set(rules.get("access_statuses", []))
    had, has = before["status"] in allowed, after["status"] in allowed
    if has and (not had or before["plan"] != after["plan"]):
        spaces = community_spaces(rules, after["plan"])
        jobs = [PlannedJob(System.COMMUNITY, "grant_access", "", {**after, "spaces": spaces})]
        # A downgrade: the spaces only the old plan gave come off (a space of both plans stays).
        gone = sorted(set(community_spaces(rules, before["plan"])) - set(spaces)) if had else []
        if gone:
            jobs.append(PlannedJob(System.COMMUNITY, REMOVE_SPACES, "", {**after, "spaces": gone}))
        return jobs
    if had and not has:
        return [PlannedJob(System.COMMUNITY, "revoke_access", "", dict(after))]
    return []


def plan_email(rules: dict, before: dict, after: dict) -> list[PlannedJob]:
    old, new = email_tags(rules, before), email_tags(rules, after)
    jobs = [PlannedJob(System.EMAIL, "add_tag", _short(t), {**after, "tag": t}) for t in sorted(new - old)]
    jobs += [PlannedJob(System.EMAIL, "remove_tag", _short(t), {**after, "tag": t}) for t in sorted(old - new)]
    return jobs


PLANNERS = {
    System.CRM: plan_crm,
    System.SUPPORT: plan_support,
    System.COMMUNITY: plan_community,
    System.EMAIL: plan_email,
}


def planned_work(*, rules_by_system: dict[str, dict], before: dict, after: dict) -> list[PlannedJob]:
    """Every job one change causes, in the order they should run."""
    b, a = _state(before), _state(after)
    jobs: list[PlannedJob] = []
    for system in SYNCED_SYSTEMS:
        jobs += PLANNERS[system](rules_by_system.get(system, {}), b, a)
    return jobs


def ticket_asked(rules: dict, *, before: dict, after: dict) -> dict | None:
    """The ticket the support desk's rules ask for when a change moves the customer to a new status."""
    planned = plan_support(rules, _state(before), _state(after))
    return next((job.payload for job in planned if job.action == TICKET_ACTION), None)


def _short(tag: str) -> str:
    return tag if len(tag) <= 40 else hashlib.sha256(tag.encode()).hexdigest()[:16]


def rules_problems(system: str, rules: dict) -> list[str]:
    """What is wrong with an edited rule set, as sentences (empty when it is fine)."""
    if system not in PLANNERS:
        return [f"There are no mapping rules for {system!r}."]
    if not isinstance(rules, dict):
        return ["Rules must be a set of named values."]
    problems = [f"{k!r} is not a rule for {system}." for k in rules if k not in DEFAULT_RULES[system]]
    for name in ("lifecycle_stage", "status_tags", "tickets"):
        mapping = rules.get(name, {})
        if not isinstance(mapping, dict):
            problems.append(f"{name} must map statuses to values.")
            continue
        problems += [f"{s!r} in {name} is not a customer status." for s in mapping if s not in STATUSES]
    for status, ticket in (rules.get("tickets") or {}).items():
        if not isinstance(ticket, dict) or not ticket.get("subject"):
            problems.append(f"The {status} ticket needs a subject.")
        elif ticket.get("priority", "normal") not in PRIORITIES:
            problems.append(f"The {status} ticket priority must be one of {', '.join(sorted(PRIORITIES))}.")
    bad = [s for s in rules.get("access_statuses", []) if s not in STATUSES]
    problems += [f"{s!r} in access_statuses is not a customer status." for s in bad]
    for plan, spaces in (rules.get("plan_spaces") or {}).items():
        if not isinstance(spaces, list) or not all(isinstance(x, int) for x in spaces):
            problems.append(f"The spaces for plan {plan!r} must be a list of Circle space ids (numbers).")
    return problems
