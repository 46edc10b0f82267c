"""The mapping-rules editor: rows that save, a review with a diff and a preview, and JSON that round-trips."""

import json
from html.parser import HTMLParser

import pytest

from sync.models import MappingRule
from sync.rules import DEFAULT_RULES, SYNCED_SYSTEMS
from sync.services import mapping_rules_current

pytestmark = pytest.mark.django_db


class FormReader(HTMLParser):
    """The fields one form (found by its id or class) would submit, as a browser would send them."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker, self.inside, self.fields, self.select, self.textarea = marker, False, [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = not self.fields and (a.get("id") == self.marker or self.marker in (a.get("class") or "").split())
        elif not self.inside:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = [a["name"], None, None]
        elif tag == "option" and self.select is not None:
            self.select[1] = self.select[1] if self.select[1] is not None else a.get("value")
            if "selected" in a:
                self.select[2] = a.get("value")
        elif tag == "textarea":
            self.textarea = [a["name"], ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select is not None:
            self.fields.append((self.select[0], self.select[2] if self.select[2] is not None else self.select[1]))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append(tuple(self.textarea))
            self.textarea = None


def form_fields(html: str, marker: str) -> dict:
    import html as html_lib

    reader = FormReader(marker)
    reader.feed(html)
    assert reader.fields, f"no form {marker!r} on the page"
    return {name: html_lib.unescape(value) if isinstance(value, str) else value for name, value in reader.fields}


def review_then_save(client, system: str, fields: dict):
    review = client.post(f"/sync/rules/{system}/", fields)
    assert review.status_code == 200, review.content.decode()[:2000]
    return review, client.post(f"/sync/rules/{system}/", form_fields(review.content.decode(), "rules-save"))


@pytest.mark.parametrize("system", SYNCED_SYSTEMS)
def test_saving_the_rows_unchanged_saves_the_same_rules(client, owner, system):
    client.force_login(owner)
    before = mapping_rules_current()[system]
    fields = form_fields(client.get("/sync/rules/").content.decode(), f"rules-{system}-rows")
    review, saved = review_then_save(client, system, fields)
    assert "Nothing differs from the version in force" in review.content.decode()
    assert saved.status_code == 302
    newest = mapping_rules_current()[system]
    assert newest.version == (before.version or 0) + 1 and newest.rules == before.rules


@pytest.mark.parametrize("system", SYNCED_SYSTEMS)
def test_the_advanced_json_round_trips_unchanged(client, owner, system):
    client.force_login(owner)
    before = mapping_rules_current()[system]
    page = client.get("/sync/rules/").content.decode()
    # the advanced form of this system's card (never a JSON string of JSON: no escaped newlines)
    reader_html = page.split(f'id="rules-{system}"', 1)[1]
    fields = form_fields(reader_html, "rules-json")
    assert "\\n" not in fields["rules"] and json.loads(fields["rules"]) == before.rules
    review, saved = review_then_save(client, system, fields)
    assert saved.status_code == 302 and mapping_rules_current()[system].rules == before.rules


def test_a_changed_row_is_shown_as_a_difference_and_in_the_preview_before_it_is_saved(client, owner):
    client.force_login(owner)
    page = client.get("/sync/rules/").content.decode()
    fields = form_fields(page, "rules-crm-rows")
    fields["lifecycle_stage__trial"] = "evangelist"
    fields["status_tags__active"] = "paying, vip"
    count = MappingRule.objects.count()
    review = client.post("/sync/rules/crm/", fields)
    html = review.content.decode()
    assert MappingRule.objects.count() == count  # reviewing saves nothing
    assert "lifecycle_stage.trial" in html and "opportunity" in html and "evangelist" in html
    assert "status_tags.active" in html and "differs from now" in html and '&quot;label&quot;' not in html
    saved = client.post("/sync/rules/crm/", form_fields(html, "rules-save"))
    assert saved.status_code == 302
    rules = mapping_rules_current()["crm"].rules
    assert rules["lifecycle_stage"]["trial"] == "evangelist" and rules["status_tags"]["active"] == ["paying", "vip"]


def test_circle_space_ids_that_are_not_numbers_are_refused_at_the_row(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/sync/rules/").content.decode(), "rules-community-rows")
    fields["space_plan__1"], fields["space_ids__1"] = "Business", "12, abc"
    response = client.post("/sync/rules/community/", fields)
    assert response.status_code == 400
    assert "Circle space ids are numbers: &#x27;abc&#x27; is not one." in response.content.decode()
    assert 'name="space_ids__1"' in response.content.decode() and "12, abc" in response.content.decode()


def test_a_plan_row_adds_spaces_for_that_plan(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/sync/rules/").content.decode(), "rules-community-rows")
    fields["space_plan__1"], fields["space_ids__1"] = "Business", "12, 34"
    review, saved = review_then_save(client, "community", fields)
    assert saved.status_code == 302
    assert mapping_rules_current()["community"].rules["plan_spaces"] == {"*": [], "Business": [12, 34]}


def test_a_save_over_someone_elses_newer_version_is_refused(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/sync/rules/").content.decode(), "rules-email-rows")
    review = client.post("/sync/rules/email/", fields)
    save = form_fields(review.content.decode(), "rules-save")
    from sync.services import mapping_rule_edit

    mapping_rule_edit(system="email", rules=DEFAULT_RULES["email"], actor=owner, note="meanwhile")
    count = MappingRule.objects.count()
    response = client.post("/sync/rules/email/", save)
    assert response.status_code == 400 and "Someone saved these rules since you opened them" in response.content.decode()
    assert MappingRule.objects.count() == count
