"""A form message from an email no customer has is answered at once: the desk gets it for its requester,
and linking it later hands the desk's ticket to the customer."""

import re

import pytest
from django.utils import timezone

from action_queue.selectors import action_items_for
from audit.models import AuditEvent
from support.models import Ticket, TicketStatus
from sync.models import JobStatus, SyncJob
from sync.providers.sandbox import ID_PREFIX
from sync.services import job_run, jobs_sweep
from tests.factories import CustomerFactory
from tests.support.desks import DESKS

pytestmark = pytest.mark.django_db

STRANGER = {
    "name": "Sam Stranger",
    "email": "sam@newcomer.example",
    "category": "access",
    "message": "I paid yesterday and still cannot log in.",
}


@pytest.fixture
def submit(client, django_capture_on_commit_callbacks):
    def _submit(**changes):
        html = client.get("/support/new").content.decode()
        token = re.search(r'name="token" value="([^"]+)"', html).group(1)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/support/new", {**STRANGER, "token": token, **changes})
        assert response.status_code == 302
        return Ticket.objects.get()

    return _submit


@pytest.fixture
def link(client, support, django_capture_on_commit_callbacks):
    def _link(ticket, customer):
        client.force_login(support)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/support/tickets/{ticket.pk}/link/", {"public_id": customer.public_id})
        assert response.status_code == 302
        ticket.refresh_from_db()
        return ticket

    return _link


def _group(user, kind):
    return next((g for g in action_items_for(user=user).groups if g.kind == kind), None)


def test_a_message_from_an_unknown_email_reaches_the_desk_at_once_for_its_requester(submit, desk):
    ticket = submit()
    job = ticket.sync_job
    assert (ticket.customer, ticket.needs_match, ticket.status) == (None, True, TicketStatus.NEW)
    assert (job.customer, job.status, job.action) == (None, JobStatus.SUCCEEDED, "create_ticket")
    assert f"ticket-{ticket.pk}" in job.idempotency_key  # the ticket owns the job's key
    [sent] = desk.made
    assert sent.requester == {"email": "sam@newcomer.example", "name": "Sam Stranger", "public_id": ""}
    assert sent.key == job.idempotency_key and ticket.external_id == sent.id
    # routed as any ticket is: the routing rules' priority, group and tags for an unknown customer
    assert sent.priority == ticket.priority and {"unknown-customer", "source-form", "category-access"} <= sent.tags
    assert "Switchboard customer" not in sent.body  # no customer facts to tell


def test_the_desk_gets_it_once_when_the_answer_to_the_first_try_is_lost(submit, desk):
    desk.lose_next_ticket = True  # the desk made the ticket; its answer never came
    ticket = submit()
    job = ticket.sync_job
    assert job.status == JobStatus.RETRYING and len(desk.made) == 1
    SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now(), enqueued_at=None)
    jobs_sweep()  # the sweeper wakes it (tasks run inline in tests)
    job.refresh_from_db()
    ticket.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
    [made] = desk.made
    assert ticket.external_id == made.id and {"unknown-customer", "source-form"} <= made.tags


def test_the_queue_flags_it_as_sent_to_the_desk_and_waiting_for_a_customer(submit, desk, support):
    ticket = submit()
    item = _group(support, "unlinked_message").items[0]
    assert item.object_id == str(ticket.pk) and item.url_label == "Link"
    assert f"Sent to the desk as ticket {ticket.external_id}" in item.reason
    assert "link it to a customer" in item.reason
    assert _group(support, "support_ticket") is None  # the desk has it: nothing waits for the desk


def test_while_the_desk_fails_it_waits_as_a_ticket_the_desk_has_not_accepted(submit, desk, support):
    desk.force = (500, {"error": "boom"})
    ticket = submit()
    assert ticket.status == TicketStatus.PENDING and ticket.sync_job.status == JobStatus.RETRYING
    assert "has not accepted it yet" in _group(support, "support_ticket").items[0].reason
    assert _group(support, "unlinked_message") is None


def handed_over(desk, update: SyncJob, ticket: Ticket, customer) -> None:
    """The desk's ticket is the customer's now, as far as the desk allows: on Zendesk their user is its
    requester; Intercom's ticket update takes no contacts, so there the ticket takes the customer's tags,
    their contact is made sure of by our id, and the job says for good that a person adds the contact."""
    [made] = desk.made
    assert set(ticket.tags) <= made.tags and "unknown-customer" not in made.tags
    contact = desk.contact(customer.public_id) or {}
    if desk.kind == "zendesk":
        assert contact["email"] == customer.email
        assert update.status == JobStatus.SUCCEEDED and desk.holds(made, customer)
        assert [u["id"] for u in desk.updates] == [int(made.id)]
    elif desk.holds(made, customer):  # created after the link: the customer's ticket from the start
        assert update.status == JobStatus.SUCCEEDED
    else:
        assert update.status == JobStatus.DEAD and made.requester["email"] == "sam@newcomer.example"
        assert contact["email"] == customer.email
        assert f"add the customer's contact {contact['id']} to it by hand" in update.last_error


def test_linking_hands_the_desk_ticket_to_the_customer_once(submit, link, desk, support):
    customer = CustomerFactory(email="ada@example.com", plan="Pro", status="active", mrr=4900, currency="usd")
    ticket = link(submit(), customer)
    assert (ticket.customer, ticket.needs_match) == (customer, False)
    update = SyncJob.objects.get(action="update_ticket")
    assert update.customer == customer and update.attempts == 1
    assert ticket.sync_job.customer == customer  # the job that created it is the customer's now too
    assert "unknown-customer" not in ticket.tags and "plan-pro" in ticket.tags
    handed_over(desk, update, ticket, customer)
    assert AuditEvent.objects.filter(action="support.ticket_link", customer=customer).count() == 1
    assert _group(support, "unlinked_message") is None


def test_a_second_link_is_refused_and_sends_nothing(submit, link, desk, client):
    customer = CustomerFactory(email="ada@example.com")
    ticket = link(submit(), customer)
    writes = desk.writes()
    other = CustomerFactory(email="bob@example.com")
    response = client.post(f"/support/tickets/{ticket.pk}/link/", {"public_id": other.public_id}, follow=True)
    assert "already belongs to a customer" in response.content.decode()
    assert desk.writes() == writes and SyncJob.objects.filter(action="update_ticket").count() == 1


def test_linking_before_the_desk_has_it_updates_the_ticket_once_it_is_created(submit, link, desk):
    desk.force = (503, {"error": "down"})
    ticket = submit()
    customer = CustomerFactory(email="ada@example.com")
    ticket = link(ticket, customer)
    update = SyncJob.objects.get(action="update_ticket")
    assert update.status == JobStatus.RETRYING and desk.made == []
    desk.force = None
    SyncJob.objects.filter(pk__in=[ticket.sync_job_id]).update(next_attempt_at=timezone.now())
    assert job_run(job_id=ticket.sync_job_id, worker="w") == "succeeded"
    SyncJob.objects.filter(pk=update.pk).update(next_attempt_at=timezone.now())
    job_run(job_id=update.pk, worker="w")
    update.refresh_from_db()
    ticket.refresh_from_db()
    handed_over(desk, update, ticket, customer)


def test_with_no_desk_configured_the_sandbox_answers_and_links_the_same_way(submit, link):
    ticket = submit()  # no desk fixture: support runs against the sandbox
    assert ticket.status == TicketStatus.NEW and ticket.external_id.startswith(ID_PREFIX)
    assert ticket.sync_job.simulated and ticket.sync_job.customer is None
    customer = CustomerFactory(email="ada@example.com")
    ticket = link(ticket, customer)
    update = SyncJob.objects.get(action="update_ticket")
    assert (update.status, update.simulated, update.external_id) == (JobStatus.SUCCEEDED, True, ticket.external_id)
    would = update.attempt_log.get().request_summary["calls"][0]
    assert would["would_be"] == "zendesk" and would["method"] == "PUT"


def test_the_ticket_page_says_the_desk_has_it_and_links_to_the_desk_ticket(submit, desk, client, support):
    ticket = submit()
    client.force_login(support)
    html = client.get(f"/support/tickets/{ticket.pk}/").content.decode()
    assert "sent to the desk for the sender" in html and "the desk's ticket becomes theirs" in html
    if desk.kind == "zendesk":  # an Intercom ticket's address needs the workspace id, which Switchboard is not given
        assert f'href="{desk.url}/agent/tickets/{ticket.external_id}"' in html


@pytest.mark.parametrize("kind", DESKS)
def test_once_the_desk_is_configured_a_replay_creates_the_ticket_and_hands_it_over(
    kind, submit, link, owner, settings, django_capture_on_commit_callbacks
):
    from sync.services import jobs_replay_simulated

    ticket = link(submit(), CustomerFactory(email="ada@example.com"))  # both jobs simulated: no desk yet
    desk = DESKS[kind]().start()
    try:
        desk.configure(settings)
        with django_capture_on_commit_callbacks(execute=True):
            jobs_replay_simulated(system="support", actor=owner)
        for job in SyncJob.objects.open().order_by("pk"):  # whatever a worker would run next, in order
            SyncJob.objects.filter(pk=job.pk).update(next_attempt_at=timezone.now())
            job_run(job_id=job.pk, worker="w")
        [created] = desk.made
        assert created.key.startswith("replay:")
        ticket.refresh_from_db()
        assert ticket.external_id == created.id
        update = SyncJob.objects.filter(action="update_ticket").order_by("pk").last()
        handed_over(desk, update, ticket, ticket.customer)
    finally:
        desk.stop()
