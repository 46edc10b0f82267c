"""The routing-rules editor: rows that save unchanged, a review with a diff and where messages go, JSON that round-trips."""

import json

import pytest

from support.models import RoutingRule
from support.rules import DEFAULT_ROUTING
from support.services import routing_rule_current
from tests.sync.test_mapping_rules_editor import form_fields

pytestmark = pytest.mark.django_db


def review_then_save(client, fields: dict):
    review = client.post("/support/routing/", fields)
    assert review.status_code == 200, review.content.decode()[:3000]
    return review, client.post("/support/routing/", form_fields(review.content.decode(), "rules-save"))


def test_saving_the_rows_unchanged_saves_the_same_rules(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/support/routing/").content.decode(), "routing-rows")
    review, saved = review_then_save(client, fields)
    assert "Nothing differs from the version in force" in review.content.decode()
    assert saved.status_code == 302
    assert routing_rule_current().version == 2 and routing_rule_current().rules == DEFAULT_ROUTING


def test_the_advanced_json_round_trips_unchanged(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/support/routing/").content.decode(), "routing-form")
    assert json.loads(fields["rules"]) == DEFAULT_ROUTING
    review, saved = review_then_save(client, fields)
    assert saved.status_code == 302 and routing_rule_current().rules == DEFAULT_ROUTING


def test_a_new_route_moved_to_the_top_shows_in_the_diff_and_the_preview_then_saves(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/support/routing/").content.decode(), "routing-rows")
    blank = len(DEFAULT_ROUTING["routes"])  # the first empty row
    fields.update({f"route__{blank}__category": "bug", f"route__{blank}__group": "Engineering",
                   f"route__{blank}__priority": "high", f"route__{blank}__position": "0"})
    review = client.post("/support/routing/", fields)
    html = review.content.decode()
    assert RoutingRule.objects.count() == 1  # the review saves nothing
    assert "routes[1].group" in html and "Engineering" in html
    assert "Something is broken (differs from now)" in html and "Engineering · high" in html
    client.post("/support/routing/", form_fields(html, "rules-save"))
    routes = routing_rule_current().rules["routes"]
    assert routes[0] == {"category": "bug", "priority": "high", "group": "Engineering"}
    assert routes[1:] == DEFAULT_ROUTING["routes"]


def test_removing_a_route_and_turning_a_fact_on(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/support/routing/").content.decode(), "routing-rows")
    fields["route__0__remove"] = "1"
    fields["fact__customer.subscription.trial_will_end__enabled"] = "1"
    review, saved = review_then_save(client, fields)
    rules = routing_rule_current().rules
    assert rules["routes"] == DEFAULT_ROUTING["routes"][1:]
    assert rules["billing_facts"]["customer.subscription.trial_will_end"].get("enabled", True) is True


def test_a_tag_with_a_space_is_refused_at_its_row_and_nothing_is_saved(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/support/routing/").content.decode(), "routing-rows")
    fields["route__2__tags"] = "big customer"
    response = client.post("/support/routing/", fields)
    assert response.status_code == 422
    assert "Route 3: tags are single words separated by commas." in response.content.decode()
    assert "big customer" in response.content.decode() and RoutingRule.objects.count() == 1


def test_a_route_moved_to_a_taken_position_goes_before_the_one_there(client, owner):
    client.force_login(owner)
    fields = form_fields(client.get("/support/routing/").content.decode(), "routing-rows")
    fields["route__3__position"] = "2"
    review, saved = review_then_save(client, fields)
    routes = routing_rule_current().rules["routes"]
    assert routes[1] == DEFAULT_ROUTING["routes"][3] and routes[2] == DEFAULT_ROUTING["routes"][1]
