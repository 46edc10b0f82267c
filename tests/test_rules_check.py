"""The rules editors check what is typed as it is typed (an htmx post with check=1): each field's problem,
the whole set's, or how much differs; nothing is saved, and only the owner may ask."""

import html
import json
import re

import pytest

from support.models import RoutingRule
from sync.models import MappingRule
from tests.sync.test_mapping_rules_editor import form_fields

pytestmark = pytest.mark.django_db


def check(client, url: str, form_id: str, fields: dict):
    return client.post(url, {**fields, "check": "1"}, headers={"HX-Request": "true", "HX-Trigger": form_id})


def field_errors(answer) -> dict:
    found = re.search(r'data-field-errors="([^"]*)"', answer.content.decode())
    return json.loads(html.unescape(found.group(1))) if found else {}


def test_a_tag_with_a_space_is_marked_on_its_field_as_it_is_typed_and_nothing_is_saved(client, owner):
    client.force_login(owner)
    versions = MappingRule.objects.filter(system="crm").count()
    fields = form_fields(client.get("/sync/rules/").content.decode(), "rules-crm-rows")
    fields["status_tags__active"] = "paying, big spender"
    answer = check(client, "/sync/rules/crm/", "rules-crm-rows", fields)
    assert answer.status_code == 200
    body = answer.content.decode()
    assert 'id="rules-crm-rows-check"' in body and 'data-check-for="rules-crm-rows"' in body
    assert "<html" not in body
    assert list(field_errors(answer)) == ["status_tags__active"]
    assert "tags are single words separated by commas" in field_errors(answer)["status_tags__active"]
    assert MappingRule.objects.filter(system="crm").count() == versions


def test_a_valid_change_says_how_much_differs_and_an_unchanged_form_says_nothing_does(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/sync/rules/").content.decode(), "rules-crm-rows")
    unchanged = check(client, "/sync/rules/crm/", "rules-crm-rows", fields).content.decode()
    assert "No problems so far; nothing differs from the rules in force yet." in unchanged
    fields["lifecycle_stage__trial"] = "evangelist"
    changed = check(client, "/sync/rules/crm/", "rules-crm-rows", fields)
    assert "No problems so far; 1 value differs from the rules in force (lifecycle_stage.trial)." in changed.content.decode()
    assert field_errors(changed) == {}


def test_the_advanced_json_is_checked_as_it_is_typed(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/sync/rules/").content.decode(), "rules-crm-json-form")
    fields["rules"] = fields["rules"][:-3]  # the closing braces not typed yet
    answer = check(client, "/sync/rules/crm/", "rules-crm-json-form", fields)
    assert "Enter a valid JSON document" in field_errors(answer)["rules"]
    assert 'id="rules-crm-json-form-check"' in answer.content.decode()


def test_a_whole_set_problem_is_said_in_the_check(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/sync/rules/").content.decode(), "rules-crm-json-form")
    fields["rules"] = json.dumps({"lifecycle_stage": "customer"})
    body = check(client, "/sync/rules/crm/", "rules-crm-json-form", fields).content.decode()
    assert "lifecycle_stage must map statuses to values." in body and "No problems so far" not in body


def test_routing_rows_are_checked_as_they_are_typed(client, owner):
    client.force_login(owner)
    versions = RoutingRule.objects.count()
    fields = form_fields(client.get("/support/routing/").content.decode(), "routing-rows")
    assert "nothing differs" in check(client, "/support/routing/", "routing-rows", fields).content.decode()
    fields["route__0__tags"] = "vip customer"
    fields["route__0__position"] = "first"
    answer = check(client, "/support/routing/", "routing-rows", fields)
    assert set(field_errors(answer)) == {"route__0__tags", "route__0__position"}
    assert "Route 1: the position is a number." in answer.content.decode()
    assert RoutingRule.objects.count() == versions


@pytest.mark.parametrize("role", ["finance", "support", "norole"])
def test_only_the_owner_may_ask_for_a_check(client, users, role):
    client.force_login(users[role])
    for url, form_id in (("/sync/rules/crm/", "rules-crm-rows"), ("/support/routing/", "routing-rows")):
        assert check(client, url, form_id, {"status_tags__active": "a b"}).status_code == 403


def test_a_made_up_form_id_is_not_echoed_into_the_page(client, owner):
    client.force_login(owner)
    answer = check(client, "/sync/rules/crm/", '"><script>x</script>', {})
    assert "<script>x" not in answer.content.decode() and 'id="rules-check"' in answer.content.decode()


def test_the_editors_open_with_an_empty_check_box_for_each_form(client, owner):
    client.force_login(owner)
    for url, form_id in (("/sync/rules/", "rules-crm-rows"), ("/support/routing/", "routing-form")):
        page = client.get(url).content.decode()
        box = page.split(f'id="{form_id}-check"')[1].split("</div>")[0]
        assert "data-field-errors" not in box and "No problems" not in box and "{#" not in page
