"""Mapping rules: read the current version, edit (adding a version), list the history."""

from django.db import IntegrityError, transaction

from audit.models import Source
from core.versioned import rules_diff, version_current, version_history, version_save
from audit.services import audit_record
from sync.errors import SyncError
from sync.models import MappingRule
from sync.rules import DEFAULT_RULES, SYNCED_SYSTEMS, rules_problems


def mapping_rules_current() -> dict[str, MappingRule]:
    """The newest rule version of every system (one query); the built-in defaults where none is stored."""
    current: dict[str, MappingRule] = {}
    for rule in MappingRule.objects.filter(system__in=SYNCED_SYSTEMS).order_by("system", "-version"):
        current.setdefault(rule.system, rule)
    for system in SYNCED_SYSTEMS:
        # Unsaved: jobs made from the defaults record no rule version.
        current.setdefault(system, MappingRule(system=system, version=None, rules=DEFAULT_RULES[system]))
    return current


def mapping_rule_current(*, system: str) -> MappingRule:
    rule = version_current(MappingRule, system=system)
    if rule is None:
        raise SyncError(f"There are no mapping rules for {system!r}.")
    return rule


def mapping_rule_history(*, system: str):
    return version_history(MappingRule, system=system)


def mapping_rule_edit(
    *, system: str, rules: dict, actor, note: str = "", source: str = Source.UI
) -> MappingRule:
    """Save ``rules`` as the next version for ``system``; earlier versions stay as they were."""
    problems = rules_problems(system, rules)
    if problems:
        raise SyncError(" ".join(problems))
    try:
        with transaction.atomic():
            previous, rule = version_save(MappingRule, rules=rules, actor=actor, note=note, system=system)
            before = previous.rules if previous else DEFAULT_RULES.get(system, {})
            audit_record(
                action="sync.mapping_rule_edit",
                source=source,
                actor=actor,
                target=rule,
                summary=f"Mapping rules for {system} changed to version {rule.version}",
                changes={"before": before, "after": rules, "diff": rules_diff(before, rules), "version": rule.version},
            )
    except IntegrityError as exc:  # two editors saved at once (SQLite has no row lock)
        raise SyncError("Someone else changed these rules at the same moment; reload and try again.") from exc
    return rule
