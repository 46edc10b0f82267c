"""Versioned rules: mapping rules (one set per system) and routing rules (one set) keep every version."""

import pytest

from audit.models import AuditEvent
from core.versioned import rules_diff, version_current, version_history, version_save
from support.models import RoutingRule
from support.rules import DEFAULT_ROUTING
from support.services import routing_rule_edit
from sync.models import MappingRule


def test_the_diff_names_each_changed_added_and_removed_key():
    before = {"priority": "normal", "tags": ["a"], "gone": 1, "same": True}
    after = {"priority": "high", "tags": ["a"], "new": {"x": 1}, "same": True}
    assert rules_diff(before, after) == {"gone": [1, None], "new": [None, {"x": 1}], "priority": ["normal", "high"]}
    assert rules_diff(after, after) == {}


@pytest.mark.django_db
def test_each_save_adds_the_next_version_of_its_own_set(owner):
    MappingRule.objects.all().delete()
    first_crm = version_save(MappingRule, rules={"a": 1}, actor=owner, note="first", system="crm")
    version_save(MappingRule, rules={"b": 1}, actor=owner, system="email")
    previous, second_crm = version_save(MappingRule, rules={"a": 2}, actor=None, note="x" * 400, system="crm")
    assert previous == first_crm[1] and first_crm[0] is None
    assert (second_crm.version, second_crm.created_by, len(second_crm.note)) == (2, None, 300)
    assert version_current(MappingRule, system="crm") == second_crm
    assert [r.version for r in version_history(MappingRule, system="crm")] == [2, 1]
    assert version_current(MappingRule, system="email").version == 1
    assert version_current(MappingRule, system="community") is None


@pytest.mark.django_db
def test_a_routing_edit_keeps_the_old_version_and_records_what_changed(owner):
    current = version_current(RoutingRule)
    before = current.rules if current else DEFAULT_ROUTING
    edited = {**before, "routes": [{"plan": "vip", "priority": "urgent"}]}
    saved = routing_rule_edit(rules=edited, actor=owner, note="tag VIPs")
    assert saved.version == (current.version + 1 if current else 1) and saved.created_by == owner
    assert version_history(RoutingRule).first() == saved
    if current:
        assert RoutingRule.objects.get(pk=current.pk).rules == before
    assert AuditEvent.objects.get(action="support.routing_rule_edit").changes["diff"] == {
        "routes": [before.get("routes"), [{"plan": "vip", "priority": "urgent"}]]}
