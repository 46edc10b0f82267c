"""Routing rules: seeded defaults, owner-only edits, every version kept and audited."""

import json

import pytest

from audit.models import AuditEvent
from support.models import RoutingRule
from support.rules import DEFAULT_ROUTING, route
from support.services import SupportError, routing_rule_edit

pytestmark = pytest.mark.django_db


def test_the_defaults_are_seeded_as_version_one():
    rule = RoutingRule.objects.get()
    assert rule.version == 1 and rule.rules == DEFAULT_ROUTING


@pytest.mark.parametrize(
    ("category", "plan", "states", "expected"),
    [
        (
            "access",
            "Pro",
            {"active", "paying", "just-paid-no-access"},
            ("urgent", "Priority", ["paid-no-access"]),
        ),
        ("access", "Pro", {"active", "paying"}, ("urgent", "Priority", ["paying"])),
        ("billing", "Pro", {"past-due", "paying"}, ("high", "Billing", [])),
        ("billing", "Pro", {"active", "paying", "dispute-open"}, ("urgent", "Billing", [])),
        ("question", "", {"trial"}, ("low", "General", [])),
        ("question", "", {"unknown-customer"}, ("normal", "Triage", [])),
    ],
)
def test_the_default_routes(category, plan, states, expected):
    got = route(DEFAULT_ROUTING, category=category, plan=plan, states=states)
    assert (got.priority, got.group, got.tags) == expected


def test_a_route_can_name_a_plan():
    rules = {"routes": [{"plan": "Enterprise", "priority": "high", "group": "Key accounts"}]}
    assert route(rules, category="bug", plan="enterprise", states=set()).group == "Key accounts"
    assert route(rules, category="bug", plan="Pro", states=set()).group == ""


def test_the_owner_saves_a_new_version_and_the_old_one_stays(client, owner):
    client.force_login(owner)
    rules = {**DEFAULT_ROUTING, "routes": [{"priority": "high", "group": "Everyone"}]}
    response = client.post("/support/routing/", {"rules": json.dumps(rules), "note": "one queue for now"})
    assert response.status_code == 302
    assert list(RoutingRule.objects.values_list("version", flat=True)) == [2, 1]
    new = RoutingRule.objects.get(version=2)
    assert (new.created_by, new.note) == (owner, "one queue for now")
    assert RoutingRule.objects.get(version=1).rules == DEFAULT_ROUTING
    entry = AuditEvent.objects.get(action="support.routing_rule_edit")
    assert (
        entry.actor == owner and entry.changes["before"] == DEFAULT_ROUTING and entry.changes["version"] == 2
    )


def test_the_screen_lists_the_versions(client, owner):
    routing_rule_edit(rules=DEFAULT_ROUTING, actor=owner, note="same again")
    client.force_login(owner)
    html = client.get("/support/routing/").content.decode()
    assert "same again" in html and "owner@switchboard.test" in html


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"routes": [{"priority": "asap"}]}), "priority must be one of"),
        (json.dumps({"routes": [{"state": "rich"}]}), "state must be one of"),
        (json.dumps({"billing_facts": {"invoice.paid": {"subject": "x"}}}), "not a billing fact"),
        (json.dumps({"colour": "red"}), "not a routing rule setting"),
    ],
)
def test_a_broken_edit_is_refused_with_a_reason_and_saves_nothing(client, owner, rules, message):
    client.force_login(owner)
    response = client.post("/support/routing/", {"rules": rules})
    assert response.status_code == 422 and message in response.content.decode()
    assert RoutingRule.objects.count() == 1


@pytest.mark.parametrize("role", ["support", "finance"])
def test_only_the_owner_edits_routing(client, users, role):
    client.force_login(users[role])
    response = client.post("/support/routing/", {"rules": json.dumps(DEFAULT_ROUTING)})
    assert response.status_code == 403 and RoutingRule.objects.count() == 1


def test_the_service_refuses_rules_it_cannot_use(owner):
    with pytest.raises(SupportError, match="tags must be a list"):
        routing_rule_edit(rules={"routes": [{"tags": "vip"}]}, actor=owner)


def test_the_owner_finds_the_routing_screen_in_the_menu_and_support_does_not(client, owner, support):
    client.force_login(owner)
    assert b'href="/support/routing/"' in client.get("/").content
    client.force_login(support)
    assert b'href="/support/routing/"' not in client.get("/").content
