"""The public form asks plainly: no topic chosen for the person; urgency, plan and device are theirs to give."""

import re

import pytest

from support.models import Ticket
from tests.support.test_form import URL, submit  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def test_no_topic_is_chosen_before_the_person_chooses_one(client):
    html = client.get(URL).content.decode()
    select = re.search(r'<select name="category".*?</select>', html, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"[^>]*selected', select) in ([], [""])
    assert "How urgent is it for you?" in html and "Your plan, if you know it" in html
    assert "Device and browser" in html


def test_sending_without_a_topic_asks_for_one(submit):  # noqa: F811
    response = submit(category="")
    assert response.status_code == 422 and "Please choose what your message is about." in response.content.decode()
    assert Ticket.objects.count() == 0


def test_a_pricing_question_stays_a_question(submit, desk):  # noqa: F811
    submit(email="someone@example.com", category="question", message="How much is the Business plan per seat?")
    ticket = Ticket.objects.get()
    assert ticket.category == "question" and ticket.priority != "urgent"


def test_urgency_raises_the_priority_and_reaches_the_desk_with_plan_and_device(submit, desk):  # noqa: F811
    submit(email="someone@example.com", category="bug", urgency="high", plan="Business", device="iPhone, Safari")
    ticket = Ticket.objects.get()
    assert ticket.priority == "high"
    assert "Urgency (as given): cannot work until fixed" in ticket.message
    assert "Plan (as given): Business" in ticket.message and "Device: iPhone, Safari" in ticket.message


def test_the_plan_an_unknown_sender_names_routes_their_message(submit, desk, owner):  # noqa: F811
    from support.rules import DEFAULT_ROUTING
    from support.services import routing_rule_edit

    rules = {**DEFAULT_ROUTING, "routes": [{"plan": "Business", "group": "Key accounts"}, *DEFAULT_ROUTING["routes"]]}
    routing_rule_edit(rules=rules, actor=owner)
    submit(email="someone@example.com", category="question", plan="business")
    assert Ticket.objects.get().group == "Key accounts"
