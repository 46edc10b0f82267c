import json

import pytest

from audit.models import AuditEvent
from sync.models import MappingRule
from sync.rules import DEFAULT_RULES

pytestmark = pytest.mark.django_db


def save(client, system: str, rules, note: str = "") -> object:
    body = rules if isinstance(rules, str) else json.dumps(rules)
    return client.post(f"/sync/rules/{system}/", {"rules": body, "note": note})


def test_the_owner_saves_a_new_version_and_the_old_one_stays(client, owner):
    client.force_login(owner)
    before = MappingRule.objects.filter(system="email").count()
    rules = {**DEFAULT_RULES["email"], "plan_tag_prefix": "tier-"}
    response = save(client, "email", rules, note="tags match the newsletter")
    assert response.status_code == 302
    versions = list(MappingRule.objects.filter(system="email").order_by("version"))
    assert len(versions) == before + 1 and versions[-1].rules["plan_tag_prefix"] == "tier-"
    assert versions[-1].created_by == owner and versions[-1].note == "tags match the newsletter"
    entry = AuditEvent.objects.get(action="sync.mapping_rule_edit")
    assert entry.actor == owner and entry.changes["after"]["plan_tag_prefix"] == "tier-"
    page = client.get("/sync/rules/").content.decode()
    assert f"version {versions[-1].version}" in page and "tags match the newsletter" in page


def test_json_that_does_not_parse_is_refused_with_the_reason_and_nothing_saved(client, owner):
    client.force_login(owner)
    before = MappingRule.objects.count()
    response = save(client, "email", '{"status_tags": ')
    assert response.status_code == 400 and "Enter a valid JSON" in response.content.decode()
    assert MappingRule.objects.count() == before


def test_rules_the_engine_cannot_use_are_refused(client, owner):
    client.force_login(owner)
    before = MappingRule.objects.count()
    response = save(client, "support", {"tickets": {"past_due": {"subject": "x", "priority": "whenever"}}})
    assert response.status_code == 400
    assert MappingRule.objects.count() == before


@pytest.mark.parametrize("role", ["finance", "support"])
def test_no_one_but_the_owner_can_edit_rules_even_with_a_crafted_post(client, users, role):
    client.force_login(users[role])
    before = MappingRule.objects.count()
    assert save(client, "email", DEFAULT_RULES["email"]).status_code == 403
    assert client.get("/sync/rules/").status_code == 403
    assert MappingRule.objects.count() == before
