"""Support routing rules: which billing facts open a ticket, and where each ticket goes.

Rules are data (``RoutingRule`` rows, one version per edit); this module only
reads them. ``route`` picks the first route whose category, plan and billing
state fit; ``billing_fact_ticket`` says what ticket a Stripe event opens.
"""

from dataclasses import dataclass, field

from support.models import TicketCategory, TicketPriority

PRIORITY_ORDER = [TicketPriority.LOW, TicketPriority.NORMAL, TicketPriority.HIGH, TicketPriority.URGENT]
CATEGORIES = set(TicketCategory.values)
# Billing-state tags a route may ask for; every ticket also carries the ones that apply.
STATES = {
    "trial",
    "active",
    "past-due",
    "canceled",
    "needs-review",
    "paying",
    "just-paid-no-access",
    "dispute-open",
    "unknown-customer",
}
FACTS = {"invoice.payment_failed", "charge.dispute.created", "customer.subscription.trial_will_end"}

DEFAULT_ROUTING: dict = {
    "billing_facts": {
        "invoice.payment_failed": {
            "subject": "Payment failed",
            "category": "billing",
            "priority": "high",
            "tags": ["payment-failed"],
        },
        "charge.dispute.created": {
            "subject": "Payment disputed",
            "category": "billing",
            "priority": "urgent",
            "tags": ["dispute"],
        },
        "customer.subscription.trial_will_end": {
            "subject": "Trial ends soon",
            "category": "account",
            "priority": "low",
            "tags": ["trial-ending"],
            "enabled": False,
        },
    },
    # First match wins. Paying customers who cannot get in come first.
    "routes": [
        {
            "category": "access",
            "state": "just-paid-no-access",
            "priority": "urgent",
            "group": "Priority",
            "tags": ["paid-no-access"],
        },
        {
            "category": "access",
            "state": "paying",
            "priority": "urgent",
            "group": "Priority",
            "tags": ["paying"],
        },
        {"category": "billing", "state": "dispute-open", "priority": "urgent", "group": "Billing"},
        {"category": "billing", "state": "past-due", "priority": "high", "group": "Billing"},
        {"category": "billing", "priority": "normal", "group": "Billing"},
        {"state": "paying", "priority": "normal", "group": "Customers"},
        {"state": "unknown-customer", "priority": "normal", "group": "Triage"},
        {"priority": "low", "group": "General"},
    ],
}


@dataclass(frozen=True)
class Route:
    priority: str = TicketPriority.NORMAL
    group: str = ""
    tags: list[str] = field(default_factory=list)


def higher(a: str, b: str) -> str:
    return max(a, b, key=lambda p: PRIORITY_ORDER.index(p) if p in PRIORITY_ORDER else 1)


def slug(value: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in str(value).lower()).split())


def _fits(route: dict, *, category: str, plan: str, states: set[str]) -> bool:
    want_category = route.get("category", "*")
    want_plan = route.get("plan", "*")
    want_state = route.get("state", "*")
    return (
        want_category in ("*", category)
        and (want_plan == "*" or slug(want_plan) == slug(plan or ""))
        and (want_state == "*" or want_state in states)
    )


def route(rules: dict, *, category: str, plan: str, states: set[str]) -> Route:
    for candidate in rules.get("routes", []):
        if _fits(candidate, category=category, plan=plan, states=states):
            return Route(
                candidate.get("priority", TicketPriority.NORMAL),
                candidate.get("group", ""),
                list(candidate.get("tags", [])),
            )
    return Route()


def billing_fact_ticket(rules: dict, event_type: str) -> dict | None:
    spec = (rules.get("billing_facts") or {}).get(event_type)
    if not spec or not spec.get("enabled", True):
        return None
    return spec


def routing_problems(rules) -> list[str]:
    """What is wrong with an edited rule set, as sentences (empty when it is fine)."""
    if not isinstance(rules, dict):
        return ["Rules must be a set of named values."]
    problems = [f"{k!r} is not a routing rule setting." for k in rules if k not in DEFAULT_ROUTING]
    facts = rules.get("billing_facts", {})
    if not isinstance(facts, dict):
        problems.append("billing_facts must map Stripe event types to tickets.")
        facts = {}
    for event_type, spec in facts.items():
        if event_type not in FACTS:
            problems.append(f"{event_type!r} is not a billing fact that can open a ticket.")
        elif not isinstance(spec, dict) or not spec.get("subject"):
            problems.append(f"The {event_type} ticket needs a subject.")
        else:
            problems += _spec_problems(spec, f"The {event_type} ticket")
    routes = rules.get("routes", [])
    if not isinstance(routes, list):
        return problems + ["routes must be a list."]
    for n, candidate in enumerate(routes, start=1):
        if not isinstance(candidate, dict):
            problems.append(f"Route {n} must be a set of named values.")
            continue
        unknown = set(candidate) - {"category", "plan", "state", "priority", "group", "tags"}
        problems += [f"Route {n}: {k!r} is not a route setting." for k in sorted(unknown)]
        if candidate.get("category", "*") not in CATEGORIES | {"*"}:
            problems.append(f"Route {n}: category must be one of {', '.join(sorted(CATEGORIES))} or *.")
        if candidate.get("state", "*") not in STATES | {"*"}:
            problems.append(f"Route {n}: state must be one of {', '.join(sorted(STATES))} or *.")
        if not isinstance(candidate.get("group", ""), str):
            problems.append(f"Route {n}: group must be a name.")
        problems += _spec_problems(candidate, f"Route {n}")
    return problems


def _spec_problems(spec: dict, label: str) -> list[str]:
    problems = []
    if spec.get("priority", "normal") not in PRIORITY_ORDER:
        problems.append(f"{label}: priority must be one of {', '.join(PRIORITY_ORDER)}.")
    tags = spec.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t and " " not in t for t in tags):
        problems.append(f"{label}: tags must be a list of words without spaces.")
    if "category" in spec and spec["category"] not in CATEGORIES | {"*"}:
        problems.append(f"{label}: category must be one of {', '.join(sorted(CATEGORIES))}.")
    return problems
