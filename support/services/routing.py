"""Support routing rules: the current version and an edit (adding a version)."""

from django.db import IntegrityError, transaction

from audit.models import Source
from audit.services import audit_record
from core.versioned import rules_diff, version_current, version_save
from support.errors import SupportError
from support.models import RoutingRule
from support.rules import DEFAULT_ROUTING, routing_problems


def routing_rule_current() -> RoutingRule:
    """The newest version; the built-in defaults (unsaved, no version) when none is stored."""
    return version_current(RoutingRule) or RoutingRule(version=None, rules=DEFAULT_ROUTING)


def routing_rule_edit(*, rules: dict, actor, note: str = "", source: str = Source.UI) -> RoutingRule:
    """Save ``rules`` as the next version; earlier versions stay as they were."""
    problems = routing_problems(rules)
    if problems:
        raise SupportError(" ".join(problems))
    try:
        with transaction.atomic():
            previous, rule = version_save(RoutingRule, rules=rules, actor=actor, note=note)
            before = previous.rules if previous else DEFAULT_ROUTING
            audit_record(
                action="support.routing_rule_edit",
                source=source,
                actor=actor,
                target=rule,
                summary=f"Support routing rules changed to version {rule.version}",
                changes={"before": before, "after": rules, "diff": rules_diff(before, rules), "version": rule.version},
            )
    except IntegrityError as exc:  # two editors saved at once (SQLite has no row lock)
        raise SupportError(
            "Someone else changed these rules at the same moment; reload and try again."
        ) from exc
    return rule
