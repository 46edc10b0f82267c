"""What is Intercom's own in creating tickets, beyond what every desk does (test_desk_tickets_once.py): the
marker search that stands for an idempotency key, tags by the teammate, a raised priority as a tag, and
contacts matched by our id, never by an email alone."""

import re

import pytest

from support.models import Ticket, TicketStatus
from sync.models import JobStatus, SyncJob
from tests.factories import CustomerFactory
from tests.support.conftest import INTERCOM_ONLY
from tests.support.test_desk_tickets_once import open_ticket, run_again
from tests.sync.helpers import make_job, run

pytestmark = [pytest.mark.django_db, INTERCOM_ONLY]


@pytest.fixture
def intercom(desk):
    return desk


def test_a_creation_whose_answer_was_lost_is_found_by_one_search_for_our_marker(
    intercom, support, django_capture_on_commit_callbacks
):
    intercom.lose_next_ticket = True
    ticket = open_ticket(support, django_capture_on_commit_callbacks)
    assert run_again(ticket.sync_job_id) == "succeeded"
    [search] = intercom.searches
    assert {"field": "description", "operator": "~",
            "value": f"Switchboard ticket {ticket.sync_job.idempotency_key}"} in search["value"]


def test_another_tickets_marker_that_merely_contains_ours_is_not_taken(
    intercom, support, django_capture_on_commit_callbacks
):
    intercom.force = (503, {"type": "error.list", "errors": [{"code": "service_unavailable", "message": "down"}]})
    ticket = open_ticket(support, django_capture_on_commit_callbacks)
    intercom.force = None
    key = ticket.sync_job.idempotency_key
    intercom.tickets.append({"type": "ticket", "id": "999", "ticket_type_id": "88", "contacts": [],
                             "ticket_attributes": {"_default_title_": "x",
                                                   "_default_description_": f"— Switchboard ticket {key}-2"}})
    assert run_again(ticket.sync_job_id) == "succeeded"
    ticket.refresh_from_db()
    assert ticket.external_id not in ("", "999") and len(intercom.tickets) == 2


def test_the_contact_is_named_by_our_id_not_the_email(intercom, support, django_capture_on_commit_callbacks):
    ticket = open_ticket(support, django_capture_on_commit_callbacks)
    [made] = intercom.tickets
    assert made["contacts"] == [{"external_id": ticket.customer.public_id}]


def test_the_routing_rules_tags_go_on_the_ticket_and_a_raised_priority_becomes_a_tag_the_job_names(
    intercom, support, django_capture_on_commit_callbacks
):
    ticket = open_ticket(support, django_capture_on_commit_callbacks, priority="urgent")
    [made] = intercom.tickets
    names = {tag_id: name for name, tag_id in intercom.tags.items()}
    on_ticket = {names[t] for t in intercom.ticket_tags[made["id"]]}
    assert set(ticket.tags) <= on_ticket and "priority-urgent" in on_ticket
    job = ticket.sync_job
    assert job.status == JobStatus.SUCCEEDED
    assert "have no priority: tagged priority-urgent instead" in job.last_error


def test_a_retry_that_finds_the_ticket_still_tags_it_once(intercom, support, django_capture_on_commit_callbacks):
    intercom.lose_next_ticket = True
    ticket = open_ticket(support, django_capture_on_commit_callbacks)
    assert run_again(ticket.sync_job_id) == "succeeded"
    [made] = intercom.tickets
    tagged = intercom.ticket_tags[made["id"]]
    assert len(tagged) == len(set(tagged)) == len(ticket.tags)


def test_without_an_admin_the_ticket_is_made_and_the_job_says_the_tags_were_not_applied(
    intercom, settings, support, django_capture_on_commit_callbacks
):
    settings.INTERCOM_ADMIN_ID = ""
    ticket = open_ticket(support, django_capture_on_commit_callbacks)
    assert ticket.status == TicketStatus.NEW and intercom.ticket_tags == {}
    assert "tags not applied" in ticket.sync_job.last_error


@pytest.mark.parametrize("theirs", ["", "cus_someone_else"])
def test_a_contact_with_the_same_email_but_not_our_id_is_never_taken(intercom, theirs):
    customer = CustomerFactory(email="ada@example.com")
    intercom.contacts["abc123"] = {"id": "abc123", "external_id": theirs, "email": "ada@example.com", "tags": []}
    job = make_job("support", "upsert_user", customer)
    assert run(job) == "dead"
    assert intercom.contacts["abc123"]["external_id"] == theirs  # not relabelled as ours
    assert "matches by its own id only" in job.last_error and len(intercom.contacts) == 1



def _form(client, capture, email: str) -> Ticket:
    html = client.get("/support/new").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    with capture(execute=True):
        client.post("/support/new", {"name": "Sam Stranger", "email": email, "category": "access",
                                     "message": "I paid yesterday and still cannot log in.", "token": token})
    return Ticket.objects.get()


def test_a_sender_who_is_not_a_customer_is_the_contact_intercom_has_for_their_email(
    intercom, client, django_capture_on_commit_callbacks
):
    intercom.contacts["abc123"] = {"id": "abc123", "role": "lead", "external_id": None, "email": "sam@new.example",
                                   "tags": []}
    ticket = _form(client, django_capture_on_commit_callbacks, "sam@new.example")
    [made] = intercom.tickets
    assert made["contacts"] == [{"id": "abc123"}] and ticket.external_id == made["id"]
    assert len(intercom.contacts) == 1  # found by the email they gave, not made again


def test_linking_without_a_teammate_says_the_tags_were_not_applied_either(
    intercom, client, support, settings, django_capture_on_commit_callbacks
):
    settings.INTERCOM_ADMIN_ID = ""
    ticket = _form(client, django_capture_on_commit_callbacks, "sam@new.example")
    customer = CustomerFactory(email="ada@example.com")
    client.force_login(support)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/support/tickets/{ticket.pk}/link/", {"public_id": customer.public_id})
    update = SyncJob.objects.get(action="update_ticket")
    assert update.status == JobStatus.DEAD and "tags not applied (set INTERCOM_ADMIN_ID)" in update.last_error
    assert intercom.ticket_tags == {}
