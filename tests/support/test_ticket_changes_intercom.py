"""What only Intercom's tickets lack, beyond the changes every desk takes (test_ticket_changes.py): a priority
or group Switchboard can set, "on hold", and an idempotency key (a retried reply is looked for by its
teammate, text and time). Such a change fails for good with a sentence, never half-sent."""

import pytest
from django.utils import timezone

from support.models import Ticket, TicketChange, TicketStatus
from support.services import ticket_change, ticket_open
from sync.models import JobStatus, SyncJob
from sync.services import job_run
from tests.factories import CustomerFactory
from tests.support.conftest import INTERCOM_ONLY

pytestmark = [pytest.mark.django_db, INTERCOM_ONLY]


@pytest.fixture
def ticket(desk, support, django_capture_on_commit_callbacks) -> Ticket:
    customer = CustomerFactory(email="ada@example.com", name="Ada", plan="Pro")
    with django_capture_on_commit_callbacks(execute=True):
        made = ticket_open(customer=customer, subject="Locked out", category="access", priority="normal",
                           note="Paid, cannot get in.", actor=support, token="t" * 20)
    made.refresh_from_db()
    assert made.status == TicketStatus.NEW
    return made


def change(ticket, support, capture, **asked) -> TicketChange:
    with capture(execute=True):
        made = ticket_change(ticket=ticket, actor=support, token=f"c{TicketChange.objects.count()}" * 10, **asked)
    made.refresh_from_db()
    return made


@pytest.mark.parametrize("asked", [{"priority": "urgent"}, {"group": "Billing"}, {"status": "hold"}])
def test_a_priority_group_or_hold_fails_for_good_with_a_sentence_and_sends_nothing(
    ticket, support, desk, django_capture_on_commit_callbacks, asked
):
    made = change(ticket, support, django_capture_on_commit_callbacks, body="Escalating.", **asked)
    job = made.sync_job
    assert job.status == JobStatus.DEAD and made.rejected
    assert "Switchboard can set: change it in Intercom itself" in job.last_error
    assert desk.replies(ticket.external_id) == [] and desk.made[0].status == "new"


def test_a_reply_without_the_teammate_who_writes_fails_for_good_and_says_so(
    ticket, support, desk, settings, django_capture_on_commit_callbacks
):
    settings.INTERCOM_ADMIN_ID = ""
    made = change(ticket, support, django_capture_on_commit_callbacks, body="Hello", public=True)
    assert made.sync_job.status == JobStatus.DEAD and "needs INTERCOM_ADMIN_ID" in made.sync_job.last_error
    assert desk.replies(ticket.external_id) == []


def retry(made: TicketChange) -> str:
    SyncJob.objects.filter(pk=made.sync_job_id).update(next_attempt_at=timezone.now(), enqueued_at=None)
    return job_run(job_id=made.sync_job_id, worker="w")


def test_the_same_text_written_before_the_change_was_asked_does_not_pass_for_it(
    ticket, support, desk, django_capture_on_commit_callbacks
):
    desk.tickets[0]["parts"] = [{"type": "ticket_part", "id": "1", "part_type": "comment", "body": "Hello",
                                 "author": {"type": "admin", "id": "3156780"}, "created_at": 1_700_000_000}]
    desk.force = (503, {"type": "error.list", "errors": [{"code": "service_unavailable", "message": "down"}]})
    made = change(ticket, support, django_capture_on_commit_callbacks, body="Hello", public=True)
    desk.force = None
    assert retry(made) == "succeeded"
    assert desk.replies(ticket.external_id) == [{"body": "Hello", "public": True}] * 2


def test_a_reply_asked_before_its_time_was_kept_is_not_sent_again_on_a_retry(
    ticket, support, desk, django_capture_on_commit_callbacks
):
    desk.force = (503, {"type": "error.list", "errors": [{"code": "service_unavailable", "message": "down"}]})
    made = change(ticket, support, django_capture_on_commit_callbacks, body="Hello", public=True)
    desk.force = None
    job = made.sync_job
    job.payload["change"].pop("asked_at")  # a job written before Switchboard kept when a change was asked
    job.save(update_fields=["payload"])
    assert retry(made) == "dead"
    job.refresh_from_db()
    assert "check the ticket there before sending again" in job.last_error and desk.replies(ticket.external_id) == []
