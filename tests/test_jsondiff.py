"""The difference a rules review and the editors' check show: one line per value that changed."""

from core.jsondiff import ABSENT, json_diff


def test_filling_an_empty_mapping_is_only_its_new_entries():
    changes = json_diff({"status_tags": {}}, {"status_tags": {"active": ["paying"]}})
    assert [(c.path, c.before, c.after) for c in changes] == [("status_tags.active", ABSENT, ["paying"])]
    assert changes[0].kind == "added"


def test_emptying_a_mapping_removes_each_entry_and_a_tag_list_is_one_value():
    changes = json_diff({"status_tags": {"active": ["paying", "vip"], "trial": ["t"]}},
                        {"status_tags": {"active": ["paying"]}})
    assert [(c.path, c.kind) for c in changes] == [("status_tags.active", "changed"), ("status_tags.trial", "removed")]
    assert changes[0].before_text == '["paying", "vip"]'


def test_routes_are_numbered_from_one_and_an_unchanged_set_has_no_lines():
    rules = {"routes": [{"group": "Billing"}, {"group": "Tier 1"}]}
    assert json_diff(rules, rules) == []
    moved = json_diff(rules, {"routes": [{"group": "Billing"}, {"group": "Priority"}]})
    assert [(c.path, c.before_text, c.after_text) for c in moved] == [("routes[2].group", "Tier 1", "Priority")]
