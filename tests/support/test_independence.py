"""Tickets do not wait for the CRM; a desk that is down keeps the ticket here, pending and in the queue."""

import pytest

from action_queue.selectors import action_items_for
from support.models import Ticket, TicketStatus
from sync.models import WAITING_JOB_STATUSES, JobStatus, SyncJob
from tests import stripe_events as se
from tests.support.conftest import paying_customer
from tests.sync.helpers import due_now, run

pytestmark = pytest.mark.django_db

FAILED = se.event(
    "invoice.payment_failed",
    se.invoice("in_F1", "cus_PAY1", "sub_cus_PAY1", status="open"),
    created=1_700_000_010,
)


def _queue_kinds(user) -> dict:
    return {g.kind: g for g in action_items_for(user=user).groups}


def test_with_the_crm_answering_500_tickets_are_still_created(deliver, desk, crm):
    crm.force = (500, {"status": "error", "message": "internal error"})
    paying_customer(deliver)
    deliver(FAILED)
    assert Ticket.objects.get().status == TicketStatus.NEW and len(desk.made) == 1
    crm_jobs = SyncJob.objects.filter(system="crm")
    assert crm_jobs.exists() and {j.status for j in crm_jobs} == {JobStatus.RETRYING}
    assert crm.contacts == {}


def test_with_the_desk_down_the_ticket_waits_here_as_pending_and_shows_in_the_queue(deliver, desk, support):
    desk.force = (503, {"error": "Service unavailable"})
    paying_customer(deliver)
    deliver(FAILED)
    ticket = Ticket.objects.get()
    # Waiting: tried and failed, or handed back untried by a batch the desk's outage stopped.
    assert ticket.status == TicketStatus.PENDING and ticket.sync_job.status in WAITING_JOB_STATUSES
    group = _queue_kinds(support)["support_ticket"]
    assert [i.object_id for i in group.items] == [str(ticket.pk)]
    assert "has not accepted it yet" in group.items[0].reason


def test_when_the_desk_comes_back_the_ticket_is_created_once_and_leaves_the_queue(deliver, desk, support):
    desk.force = (503, {"error": "Service unavailable"})
    paying_customer(deliver)
    deliver(FAILED)
    desk.force = None
    job = Ticket.objects.get().sync_job
    due_now(job)
    assert run(job) == "succeeded"
    ticket = Ticket.objects.get()
    [made] = desk.made
    assert ticket.status == TicketStatus.NEW and ticket.external_id == made.id
    assert "support_ticket" not in _queue_kinds(support)


def test_a_ticket_the_desk_never_took_stays_in_the_queue_when_its_job_is_dead(
    deliver, desk, support, settings
):
    settings.SYNC_MAX_ATTEMPTS = 1
    desk.force = (503, {"error": "Service unavailable"})
    paying_customer(deliver)
    deliver(FAILED)
    job = Ticket.objects.get().sync_job
    if job.status != JobStatus.DEAD:  # handed back untried by a batch the outage stopped: its own try now
        due_now(job)
        assert run(job) == "dead"
    ticket = Ticket.objects.get()
    assert ticket.sync_job.status == JobStatus.DEAD and ticket.status == TicketStatus.PENDING
    assert "support_ticket" in _queue_kinds(support)
