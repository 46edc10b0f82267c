"""A support agent opens a case from the customer 360; someone links a form ticket nobody matched."""

import re

import pytest

from audit.models import AuditEvent
from support.models import Ticket, TicketSource, TicketStatus
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    return CustomerFactory(
        email="ada@example.com", name="Ada", plan="Pro", status="past_due", mrr=4900, currency="usd"
    )


def _form(client, customer) -> dict:
    html = client.get(f"/support/customers/{customer.public_id}/new/").content.decode()
    return {
        "token": re.search(r'name="token" value="([^"]+)"', html).group(1),
        "subject": "Cannot log in",
        "category": "access",
        "priority": "high",
        "note": "Called us: paid, locked out.",
    }


def test_the_360_offers_support_a_way_to_open_a_case(client, support, customer):
    client.force_login(support)
    html = client.get(f"/customers/{customer.public_id}/").content.decode()
    assert f'href="/support/customers/{customer.public_id}/new/"' in html


def test_the_360_offers_finance_no_such_link(client, finance, customer):
    client.force_login(finance)
    assert b'id="open-case"' not in client.get(f"/customers/{customer.public_id}/").content


def test_support_opens_a_case_that_reaches_the_desk(
    client, support, customer, desk, django_capture_on_commit_callbacks
):
    client.force_login(support)
    data = _form(client, customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/support/customers/{customer.public_id}/new/", data)
    assert response.status_code == 302 and response["Location"] == f"/customers/{customer.public_id}/"
    ticket = Ticket.objects.get()
    assert (ticket.source, ticket.priority, ticket.opened_by, ticket.status) == (
        TicketSource.STAFF,
        "high",
        support,
        TicketStatus.NEW,
    )
    [sent] = desk.made
    assert sent.subject == "Cannot log in" and "Called us: paid, locked out." in sent.body
    assert {"past-due", "plan-pro", "source-staff"} <= sent.tags and desk.holds(sent, customer)
    assert sent.priority == "high" and ticket.external_id == sent.id
    assert AuditEvent.objects.filter(action="support.ticket_open", actor=support).exists()
    assert "Cannot log in" in client.get(f"/customers/{customer.public_id}/").content.decode()


def test_a_double_click_opens_one_case(client, support, customer, desk, django_capture_on_commit_callbacks):
    client.force_login(support)
    data = _form(client, customer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/support/customers/{customer.public_id}/new/", data)
        client.post(f"/support/customers/{customer.public_id}/new/", data)
    assert Ticket.objects.count() == 1 and len(desk.made) == 1


def test_a_case_without_a_subject_is_refused_with_a_reason(client, support, customer):
    client.force_login(support)
    response = client.post(
        f"/support/customers/{customer.public_id}/new/", {**_form(client, customer), "subject": ""}
    )
    assert response.status_code == 422 and b"This field is required" in response.content
    assert Ticket.objects.count() == 0


def test_finance_may_not_open_a_case(client, finance, customer):
    client.force_login(finance)
    response = client.post(f"/support/customers/{customer.public_id}/new/", {"subject": "x"})
    assert response.status_code == 403 and Ticket.objects.count() == 0


def test_an_unmatched_form_ticket_linked_by_support_goes_to_the_desk(
    client, support, customer, desk, django_capture_on_commit_callbacks
):
    ticket = Ticket.objects.create(
        idempotency_key="form:abc",
        subject="Help",
        source="form",
        needs_match=True,
        message="Locked out",
        requester_name="Ada",
        requester_email="ada@work.example",
    )
    client.force_login(support)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/support/tickets/{ticket.pk}/link/", {"public_id": customer.public_id})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.customer, ticket.needs_match, ticket.status) == (customer, False, TicketStatus.NEW)
    [sent] = desk.made
    if desk.kind == "zendesk":  # Zendesk keeps the address the person wrote from (it matches people by email)
        assert sent.requester["email"] == "ada@work.example"
    else:  # Intercom takes the customer's contact: by our id only, never by an email
        assert desk.holds(sent, customer)
    assert AuditEvent.objects.filter(action="support.ticket_link").exists()


def test_the_ticket_page_shows_what_the_person_wrote(client, support):
    ticket = Ticket.objects.create(
        idempotency_key="form:abd",
        subject="Help",
        source="form",
        needs_match=True,
        message="Locked out since Monday",
    )
    client.force_login(support)
    html = client.get(f"/support/tickets/{ticket.pk}/").content.decode()
    assert "Locked out since Monday" in html and "Whose ticket is this?" in html
