"""A ticket reaches the desk exactly once, whichever desk, even when an answer is lost or the desk fails:
Zendesk by its Idempotency-Key and a lookup by our external id, Intercom by a lookup of our marker."""

import pytest
from django.utils import timezone

from support.models import Ticket, TicketStatus
from support.services import ticket_open
from sync.models import JobStatus, SyncJob
from sync.services import job_run
from tests.factories import CustomerFactory
from tests.support.desks import DESKS
from tests.sync.helpers import make_job, run

pytestmark = pytest.mark.django_db


def open_ticket(support, capture, **extra) -> Ticket:
    customer = CustomerFactory(email="ada@example.com", name="Ada", plan="Pro")
    fields = {"subject": "Locked out", "category": "access", "priority": "normal", "note": "Paid, cannot get in.",
              **extra}
    with capture(execute=True):
        made = ticket_open(customer=customer, actor=support, token="t" * 20, **fields)
    made.refresh_from_db()
    return made


def run_again(job_id: int) -> str:
    SyncJob.objects.filter(pk=job_id).update(next_attempt_at=timezone.now(), enqueued_at=None)
    return job_run(job_id=job_id, worker="w")


def test_a_creation_whose_answer_was_lost_is_found_again_not_made_twice(
    desk, support, django_capture_on_commit_callbacks
):
    desk.lose_next_ticket = True
    ticket = open_ticket(support, django_capture_on_commit_callbacks)
    assert ticket.status == TicketStatus.PENDING and len(desk.made) == 1  # made, answer lost
    assert run_again(ticket.sync_job_id) == "succeeded"
    ticket.refresh_from_db()
    [made] = desk.made
    assert ticket.status == TicketStatus.NEW and ticket.external_id == made.id == ticket.sync_job.external_id
    assert made.key == ticket.sync_job.idempotency_key and desk.holds(made, ticket.customer)


def test_a_retry_after_a_failure_before_the_desk_creates_once(desk, support, django_capture_on_commit_callbacks):
    desk.force = (503, {"error": "down"})
    ticket = open_ticket(support, django_capture_on_commit_callbacks)
    desk.force = None
    assert desk.made == []
    assert run_again(ticket.sync_job_id) == "succeeded"
    [made] = desk.made
    ticket.refresh_from_db()
    assert ticket.external_id == made.id and ticket.sync_job.status == JobStatus.SUCCEEDED


def test_the_routing_rules_tags_and_a_raised_priority_reach_the_desk(
    desk, support, django_capture_on_commit_callbacks
):
    ticket = open_ticket(support, django_capture_on_commit_callbacks, priority="urgent")
    [made] = desk.made
    assert set(ticket.tags) <= made.tags and made.priority == "urgent"
    assert ticket.sync_job.status == JobStatus.SUCCEEDED


def test_the_desk_user_is_kept_by_our_id_and_updated_not_doubled(desk):
    customer = CustomerFactory(email="ada@example.com")
    assert run(make_job("support", "upsert_user", customer)) == "succeeded"
    customer.email = "ada@new.example"
    customer.save(update_fields=["email"])
    job = make_job("support", "upsert_user", customer)
    assert run(job) == "succeeded"
    contact = desk.contact(customer.public_id)
    assert contact["email"] == "ada@new.example" and str(contact["id"]) == job.external_id


@pytest.mark.parametrize("kind", DESKS)
def test_under_random_timeouts_and_dropped_answers_each_ticket_is_made_once(
    kind, settings, support, django_capture_on_commit_callbacks
):
    desk = DESKS[kind](fault_rate=0.1, seed=7, faults=("timeout_after", "drop_after", "drop_before", "500")).start()
    desk.configure(settings)
    settings.SYNC_BREAKER_THRESHOLD = 1000  # the faults are the test, not an outage to stop for
    settings.SYNC_MAX_ATTEMPTS = 30
    try:
        tickets = []
        for n in range(6):
            with django_capture_on_commit_callbacks(execute=True):
                tickets.append(ticket_open(customer=CustomerFactory(), subject=f"Case {n}", category="access",
                                           priority="normal", note="", actor=support, token=f"{n}" * 20))
        for ticket in tickets:
            for _ in range(30):
                if SyncJob.objects.get(pk=ticket.sync_job_id).status == JobStatus.SUCCEEDED:
                    break
                run_again(ticket.sync_job_id)
        jobs = [SyncJob.objects.get(pk=t.sync_job_id) for t in tickets]
        assert [j.status for j in jobs] == [JobStatus.SUCCEEDED] * len(jobs), [j.last_error for j in jobs]
        assert sorted(m.key for m in desk.made) == sorted(j.idempotency_key for j in jobs)  # one each
        assert any(c[2] == "dropped" for c in desk.calls)  # the faults did happen
        for ticket in tickets:
            ticket.refresh_from_db()
            assert ticket.external_id in {m.id for m in desk.made}
    finally:
        desk.stop()
