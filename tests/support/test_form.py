"""The public support form at /support/new."""

import re

import pytest
from django.test import Client

from action_queue.selectors import action_items_for
from support.models import Ticket, TicketSource, TicketStatus
from sync.models import JobStatus
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/support/new"
GOOD = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "category": "access",
    "message": "I paid yesterday and still cannot log in.",
}


def token(client) -> str:
    html = client.get(URL).content.decode()
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


@pytest.fixture
def submit(client, django_capture_on_commit_callbacks):
    def _submit(data: dict | None = None, **changes):
        data = {**GOOD, "token": token(client), **(data or {}), **changes}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(URL, data)

    return _submit


def test_the_form_needs_no_login(client):
    response = client.get(URL)
    assert response.status_code == 200 and b'id="support-form"' in response.content


def test_a_message_from_a_known_email_links_the_customer_and_reaches_the_desk(submit, desk):
    customer = CustomerFactory(email="ada@example.com", plan="Pro", status="active", mrr=4900, currency="usd")
    response = submit()
    assert response.status_code == 302 and response["Location"] == "/support/thanks"
    ticket = Ticket.objects.get()
    assert (ticket.customer, ticket.source, ticket.needs_match) == (customer, TicketSource.FORM, False)
    assert ticket.message == GOOD["message"] and ticket.requester_name == "Ada Lovelace"
    assert ticket.status == TicketStatus.NEW and ticket.sync_job.status == JobStatus.SUCCEEDED
    [sent] = desk.made
    assert desk.holds(sent, customer) and ticket.external_id == sent.id
    assert GOOD["message"] in sent.body and customer.public_id in sent.body


def test_a_paying_customer_who_cannot_get_in_goes_first(submit, desk):
    CustomerFactory(email="ada@example.com", plan="Pro", status="active", mrr=4900, currency="usd")
    submit()
    ticket = Ticket.objects.get()
    assert (ticket.priority, ticket.group) == ("urgent", "Priority")
    assert {"plan-pro", "paying", "category-access", "source-form"} <= desk.made[0].tags


def test_the_email_is_matched_whatever_its_case(submit, desk):
    customer = CustomerFactory(email="Ada@Example.com")
    submit(email="ada@example.COM")
    assert Ticket.objects.get().customer == customer


def test_an_unknown_email_is_sent_to_the_desk_unlinked_flagged_and_queued(submit, desk, support):
    submit(email="stranger@example.com")
    ticket = Ticket.objects.get()
    assert ticket.customer is None and ticket.needs_match and ticket.status == TicketStatus.NEW
    assert ticket.sync_job.customer is None and desk.made[0].requester["email"] == "stranger@example.com"
    group = next(g for g in action_items_for(user=support).groups if g.kind == "unlinked_message")
    assert "link it to a customer" in group.items[0].reason


def test_an_email_shared_by_two_customers_is_not_guessed(submit, desk):
    CustomerFactory(email="ada@example.com")
    CustomerFactory(email="ada@example.com")
    submit()
    assert Ticket.objects.get().customer is None


def test_with_the_desk_down_what_the_person_typed_is_stored(submit, desk):
    CustomerFactory(email="ada@example.com")
    desk.force = (500, {"error": "boom"})  # the desk's own error shape does not matter here
    response = submit()
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.status == TicketStatus.PENDING and ticket.message == GOOD["message"]
    assert ticket.requester_email == "ada@example.com"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-email", "does not look like an email address"),
        ("email", "", "give us an email address"),
        ("name", "", "tell us your name"),
        ("message", "help", "a little more"),
        ("category", "spam", "one of the listed topics"),
    ],
)
def test_it_explains_what_is_wrong_and_keeps_the_rest(submit, field, value, message):
    response = submit(**{field: value})
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html and "Please check the fields marked below" in html
    if field != "name":
        assert "Ada Lovelace" in html  # nothing typed is lost
    assert Ticket.objects.count() == 0


def test_a_bot_filling_the_honeypot_sees_the_confirmation_but_opens_nothing(submit, desk):
    CustomerFactory(email="ada@example.com")
    response = submit(website="https://spam.example")
    assert response.status_code == 302 and response["Location"] == "/support/thanks"
    assert Ticket.objects.count() == 0 and desk.made == []


def test_sending_the_same_form_twice_opens_one_ticket(client, django_capture_on_commit_callbacks, desk):
    data = {**GOOD, "token": token(client)}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(URL, data)
        client.post(URL, data)
    assert Ticket.objects.count() == 1 and len(desk.made) == 1


def test_too_many_messages_from_one_address_are_refused_and_nothing_is_lost_on_the_page(submit, settings):
    settings.SUPPORT_FORM_RATE_LIMIT = "3/h"
    assert [submit(message=f"Message number {n} here").status_code for n in range(3)] == [302] * 3
    response = submit(message="The fourth message, too many")
    assert response.status_code == 429
    assert b"The fourth message, too many" in response.content and b'id="rate-limited"' in response.content
    assert Ticket.objects.count() == 3


def test_another_address_is_not_limited_by_the_first(submit, settings, client):
    settings.SUPPORT_FORM_RATE_LIMIT = "1/h"
    assert submit().status_code == 302
    other = Client(REMOTE_ADDR="10.1.2.3")
    html = other.get(URL).content.decode()
    data = {**GOOD, "token": re.search(r'name="token" value="([^"]+)"', html).group(1)}
    assert other.post(URL, data).status_code == 302


def test_the_form_is_csrf_protected():
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, {**GOOD, "token": "a" * 22}).status_code == 403
    assert Ticket.objects.count() == 0


def test_the_confirmation_page_is_public(client):
    response = client.get("/support/thanks")
    assert response.status_code == 200 and b'id="support-thanks"' in response.content


def test_with_the_cache_down_the_form_still_opens_tickets_and_limits_per_process(submit, cache_down):
    cache_down.SUPPORT_FORM_RATE_LIMIT = "2/h"
    statuses = [submit(message=f"Message number {n} here").status_code for n in range(3)]
    assert statuses == [302, 302, 429]
    assert Ticket.objects.count() == 2
