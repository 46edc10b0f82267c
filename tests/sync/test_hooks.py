"""Apps above sync hear of their jobs' success through hooks the executor runs while recording it."""

import pytest
from django.db import connection

from support.models import TicketStatus
from support.services import ticket_open
from sync.hooks import success_hook_register, success_hook_unregister, success_hooks
from sync.models import JobStatus, SyncJob
from tests.sync import fakes
from tests.sync.helpers import customer_with_stripe, make_job, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """A hook on ``upsert_contact`` for one test, recording what it was told and what it could see."""
    calls = []

    def hook(*, job, external_id):
        # Inside the finishing transaction: the job already reads as succeeded.
        calls.append((job.pk, external_id, connection.in_atomic_block, SyncJob.objects.get(pk=job.pk).status))

    success_hook_register(action="upsert_contact", name="test.heard", hook=hook)
    yield calls
    success_hook_unregister(action="upsert_contact", name="test.heard")


def test_support_confirms_its_tickets_through_a_hook():
    assert success_hooks(action="create_ticket") == ["support.ticket_confirm"]


def test_a_hook_runs_once_with_the_external_id_inside_the_transaction_that_records_the_success(serve, heard):
    hub = serve(fakes.HubSpot())
    job = make_job("crm", "upsert_contact", customer_with_stripe())
    assert run(job) == "succeeded"
    assert heard == [(job.pk, job.external_id, True, JobStatus.SUCCEEDED)]
    assert job.external_id == next(iter(hub.contacts.values()))["id"]
    assert run(job) == "not_due" and len(heard) == 1


def test_no_hook_runs_for_a_failed_try_or_for_another_action(serve, heard):
    serve(fakes.HubSpot(fault_rate=1.0, faults=("500",)))
    serve(fakes.Kit())
    assert run(make_job("crm", "upsert_contact")) == "retrying"
    assert run(make_job("email", "add_tag", tag="customer")) == "succeeded"
    assert heard == []


def test_a_ticket_job_that_succeeds_moves_its_ticket_from_pending_to_new(serve, django_capture_on_commit_callbacks):
    desk = serve(fakes.Zendesk())
    customer = customer_with_stripe(email="ada@example.com")
    with django_capture_on_commit_callbacks(execute=False):
        ticket = ticket_open(customer=customer, subject="Card declined", category="billing", priority="high",
                             note="", actor=None, token="t-1")
    assert ticket.status == TicketStatus.PENDING
    assert run(ticket.sync_job) == "succeeded"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and ticket.external_id == str(desk.tickets[0]["id"])
