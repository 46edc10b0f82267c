"""Mapping rules -> planned work, as plain functions: no database (pytest-django refuses it here)."""

from sync.rules import DEFAULT_RULES, PlannedJob, planned_work

NOBODY = {"status": None, "plan": None, "mrr": None, "currency": None}


def _state(status: str, plan: str = "Pro", mrr: int = 4900) -> dict:
    return {"status": status, "plan": plan, "mrr": mrr, "currency": "eur"}


def _by_system(jobs: list[PlannedJob]) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for job in jobs:
        out.setdefault(job.system, []).append((job.action, job.payload.get("tag") or job.payload.get("subject", "")))
    return out


def test_a_new_trial_reaches_every_tool_it_concerns():
    jobs = planned_work(rules_by_system=DEFAULT_RULES, before=NOBODY, after=_state("trial"))
    assert _by_system(jobs) == {
        "crm": [("upsert_contact", "")],
        "support": [("upsert_user", "")],
        "community": [("grant_access", "")],
        "email": [("add_tag", "plan-pro"), ("add_tag", "trial")],
    }
    crm = next(j for j in jobs if j.system == "crm")
    assert crm.payload["lifecycle_stage"] == "opportunity" and crm.payload["mrr"] == 4900


SPACES = {**DEFAULT_RULES, "community": {**DEFAULT_RULES["community"],
                                          "plan_spaces": {"Pro": [12], "Business": [12, 34], "*": []}}}


def _community(jobs: list[PlannedJob]) -> list[tuple[str, list]]:
    return [(j.action, j.payload.get("spaces")) for j in jobs if j.system == "community"]


def test_a_downgrade_takes_away_the_spaces_only_the_old_plan_gave():
    jobs = planned_work(rules_by_system=SPACES, before=_state("active", "Business"), after=_state("active", "Pro"))
    assert _community(jobs) == [("grant_access", [12]), ("remove_from_spaces", [34])]


def test_an_upgrade_or_a_first_grant_takes_nothing_away():
    up = planned_work(rules_by_system=SPACES, before=_state("active", "Pro"), after=_state("active", "Business"))
    first = planned_work(rules_by_system=SPACES, before=NOBODY, after=_state("trial", "Business"))
    assert _community(up) == [("grant_access", [12, 34])] and _community(first) == [("grant_access", [12, 34])]


def test_a_cancellation_revokes_access_swaps_tags_and_asks_for_a_ticket():
    jobs = planned_work(rules_by_system=DEFAULT_RULES, before=_state("active"), after=_state("canceled", mrr=0))
    assert _by_system(jobs) == {
        "crm": [("upsert_contact", "")],
        "support": [("upsert_user", ""), ("create_ticket", "Subscription canceled")],
        "community": [("revoke_access", "")],
        "email": [("add_tag", "churned"), ("remove_tag", "customer")],
    }


def test_no_change_plans_no_work():
    assert planned_work(rules_by_system=DEFAULT_RULES, before=_state("active"), after=_state("active")) == []


def test_each_tag_job_gets_its_own_key_within_the_event():
    jobs = planned_work(rules_by_system=DEFAULT_RULES, before=NOBODY, after=_state("active", plan="Team Plus"))
    keys = [j.key_suffix for j in jobs if j.system == "email"]
    assert len(keys) == 2 and len(set(keys)) == 2 and all(keys)


def test_edited_rules_decide_the_spaces_and_who_keeps_access():
    rules = {**DEFAULT_RULES, "community": {"access_statuses": ["active"], "plan_spaces": {"Pro": [7], "*": [1]}}}
    trial = planned_work(rules_by_system=rules, before=NOBODY, after=_state("trial"))
    assert not [j for j in trial if j.system == "community"]
    paid = planned_work(rules_by_system=rules, before=_state("trial"), after=_state("active"))
    assert [j.payload["spaces"] for j in paid if j.system == "community"] == [[7]]
