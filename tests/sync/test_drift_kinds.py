"""Each kind of drift in each tool that can hold it, one at a time against the loopback fakes: the
pass finds exactly that difference on an otherwise clean tool, its repair goes through the tool's
ordinary jobs, and the next pass finds nothing."""

import pytest

from sync.models import DriftKind
from sync.providers.sandbox import state as sandbox_state
from sync.services.drift import drift_open, drift_repair, reconcile_system
from sync.services.rules import mapping_rule_edit
from sync.rules import DEFAULT_RULES
from tests.sync import drift_fakes
from tests.sync.drift_helpers import STATES, open_drift, run_open_jobs, synced
from tests.sync.helpers import billing_change

pytestmark = pytest.mark.django_db
FAKES = {"hubspot": drift_fakes.HubSpot, "zendesk": drift_fakes.Zendesk, "intercom": drift_fakes.Intercom,
         "circle": drift_fakes.Circle, "kit": drift_fakes.Kit}


def intercom_contact(fake, customer) -> dict:
    return next(c for c in fake.contacts.values() if c["external_id"] == customer.public_id)


def intercom_tag(fake, customer, name: str) -> None:
    intercom_contact(fake, customer)["tags"].append(fake.tags.setdefault(name, "4242"))


def kit_tag_drop(fake, customer, name: str) -> None:
    fake.tagged.discard((fake.tags[name], fake.subscribers[customer.email]["id"]))


def kit_tag_add(fake, customer, name: str) -> None:
    fake.tagged.add((fake.tags.setdefault(name, 4242), fake.subscribers[customer.email]["id"]))


# (case, system, tool, customer's status, what someone did in the tool, the difference expected)
CASES = [
    ("hubspot-missing", "crm", "hubspot", "active",
     lambda f, c: f.contacts.pop(c.public_id), (DriftKind.MISSING, "")),
    ("hubspot-lifecycle", "crm", "hubspot", "canceled",
     lambda f, c: f.contacts[c.public_id]["properties"].update(lifecyclestage="customer"),
     (DriftKind.WRONG_VALUE, "lifecycle_stage")),
    ("hubspot-plan", "crm", "hubspot", "active",
     lambda f, c: f.contacts[c.public_id]["properties"].update(switchboard_plan="Basic"), (DriftKind.WRONG_VALUE, "plan")),
    ("hubspot-identity", "crm", "hubspot", "active",
     lambda f, c: f.contacts[c.public_id]["properties"].update(email="other@example.com"),
     (DriftKind.IDENTITY_MISMATCH, "email")),
    ("zendesk-missing", "support", "zendesk", "active", lambda f, c: f.users.pop(c.public_id), (DriftKind.MISSING, "")),
    ("zendesk-status", "support", "zendesk", "past_due",
     lambda f, c: f.users[c.public_id].update(tags=["active", "Pro"]), (DriftKind.WRONG_VALUE, "status")),
    ("zendesk-identity", "support", "zendesk", "active",
     lambda f, c: f.users[c.public_id].update(email="other@example.com"), (DriftKind.IDENTITY_MISMATCH, "email")),
    ("intercom-crm-missing", "crm", "intercom", "active",
     lambda f, c: f.contacts.pop(intercom_contact(f, c)["id"]), (DriftKind.MISSING, "")),
    ("intercom-crm-status", "crm", "intercom", "canceled",
     lambda f, c: intercom_contact(f, c)["custom_attributes"].update(status="active"), (DriftKind.WRONG_VALUE, "status")),
    ("intercom-crm-identity", "crm", "intercom", "active",
     lambda f, c: intercom_contact(f, c).update(email="other@example.com"), (DriftKind.IDENTITY_MISMATCH, "email")),
    ("intercom-crm-tag-stale", "crm", "intercom", "past_due", lambda f, c: intercom_tag(f, c, "paid"),
     (DriftKind.WRONG_VALUE, "tag:paid")),
    ("intercom-crm-tag-lacking", "crm", "intercom", "active", lambda f, c: intercom_contact(f, c)["tags"].clear(),
     (DriftKind.WRONG_VALUE, "tag:paid")),
    ("intercom-desk-missing", "support", "intercom", "active",
     lambda f, c: f.contacts.pop(intercom_contact(f, c)["id"]), (DriftKind.MISSING, "")),
    ("circle-extra", "community", "circle", "canceled",
     lambda f, c: f.members.update({c.email: {"id": 777, "email": c.email, "name": c.name, "member_tags": []}}),
     (DriftKind.ACCESS_EXTRA, "access")),
    ("circle-removed", "community", "circle", "active", lambda f, c: f.members.pop(c.email), (DriftKind.ACCESS_MISSING, "")),
    ("circle-space", "community", "circle", "active",
     lambda f, c: f.spaces.discard((c.email, 12)), (DriftKind.ACCESS_MISSING, "spaces")),
    ("circle-space-of-another-plan", "community", "circle", "active",
     lambda f, c: f.spaces.add((c.email, 34)), (DriftKind.ACCESS_EXTRA, "spaces")),
    ("kit-missing", "email", "kit", "active", lambda f, c: f.subscribers.pop(c.email), (DriftKind.MISSING, "")),
    ("kit-tag-extra", "email", "kit", "past_due", lambda f, c: kit_tag_add(f, c, "customer"),
     (DriftKind.WRONG_VALUE, "tag:customer")),
    ("kit-tag-lacking", "email", "kit", "active", lambda f, c: kit_tag_drop(f, c, "plan-pro"),
     (DriftKind.WRONG_VALUE, "tag:plan-pro")),
]


@pytest.fixture
def one_tool(serve, settings, tmp_path, owner):
    """The tool under test as the system's provider, a loopback fake holding state; the other systems
    in sandbox. Active customers are tagged "paid" in the CRM; Pro members belong to the community's
    space 12, Business members to 12 and 34."""
    settings.DRIFT_READ_SHARE = 1.0
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    settings.SYNC_RATE_LIMITS = {name: (10_000, 1) for name in settings.SYNC_RATE_LIMITS}
    mapping_rule_edit(system="crm", rules={**DEFAULT_RULES["crm"], "status_tags": {"active": ["paid"]}}, actor=owner)
    mapping_rule_edit(system="community", rules={**DEFAULT_RULES["community"], "plan_spaces": {"Pro": [12], "Business": [12, 34],
                                                                                      "*": []}},
                      actor=owner)

    def start(system: str, tool: str):
        settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, system: tool}
        return serve(FAKES[tool]())

    return start


@pytest.mark.parametrize("case, system, tool, status, edit, expected", CASES, ids=[c[0] for c in CASES])
def test_each_kind_is_found_alone_and_its_repair_leaves_the_tool_clean(one_tool, owner, case, system, tool,
                                                                       status, edit, expected):
    fake = one_tool(system, tool)
    others = [synced(s) for s in ("active", "past_due", "canceled")]
    customer = synced(status)
    reconcile_system(system=system, fresh=True)
    assert open_drift() == set(), "the tool starts clean"
    edit(fake, customer)

    reconcile_system(system=system, fresh=True)

    assert open_drift() == {(system, customer.public_id, *expected)}
    assert others
    drift_repair(drift=drift_open().get(), actor=owner)
    run_open_jobs()
    reconcile_system(system=system, fresh=True)
    assert open_drift() == set()


def test_a_customer_no_longer_active_loses_the_crm_tag_of_active_ones(one_tool):
    intercom = one_tool("crm", "intercom")
    customer = synced("active")
    contact = intercom_contact(intercom, customer)
    assert contact["tags"] == [intercom.tags["paid"]]
    billing_change(customer, "customer.subscription.updated", STATES["active"], STATES["past_due"])
    run_open_jobs()
    assert contact["tags"] == []


def test_a_space_no_rule_names_is_left_alone_and_a_repair_takes_away_only_the_other_plans_space(one_tool, owner):
    circle = one_tool("community", "circle")
    customer = synced("active")
    circle.spaces |= {(customer.email, 99), (customer.email, 34)}  # 99: a space set up by hand, no plan's
    reconcile_system(system="community", fresh=True)
    assert open_drift() == {("community", customer.public_id, DriftKind.ACCESS_EXTRA, "spaces")}
    drift_repair(drift=drift_open().get(), actor=owner)
    run_open_jobs()
    assert {s for e, s in circle.spaces if e == customer.email} == {12, 99}


def test_a_downgrade_takes_the_old_plans_spaces_away_and_leaves_no_drift(one_tool):
    circle = one_tool("community", "circle")
    customer = synced("active")
    business = {**STATES["active"], "plan": "Business"}
    billing_change(customer, "customer.subscription.updated", STATES["active"], business)
    run_open_jobs()
    assert {s for e, s in circle.spaces if e == customer.email} == {12, 34}
    billing_change(customer, "customer.subscription.updated", business, STATES["active"])
    run_open_jobs()
    assert {s for e, s in circle.spaces if e == customer.email} == {12}
    reconcile_system(system="community", fresh=True)
    assert open_drift() == set()


def test_the_sandbox_community_drifts_and_is_repaired_the_same_way(settings, tmp_path, owner):
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    settings.DRIFT_READ_SHARE = 1.0
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "community": "sandbox"}
    mapping_rule_edit(system="community", rules={**DEFAULT_RULES["community"],
                                                 "plan_spaces": {"Pro": [12], "Business": [12, 34], "*": []}},
                      actor=owner)
    customer = synced("active")
    sandbox_state.change("community", customer.public_id, lambda data: {**data, "spaces": [12, 34]})
    reconcile_system(system="community", fresh=True)
    assert open_drift() == {("community", customer.public_id, DriftKind.ACCESS_EXTRA, "spaces")}
    drift_repair(drift=drift_open().get(), actor=owner)
    run_open_jobs()
    assert sandbox_state.get("community", customer.public_id)["spaces"] == [12]
    reconcile_system(system="community", fresh=True)
    assert open_drift() == set()
