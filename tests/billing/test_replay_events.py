import io

import pytest
from django.core.management import CommandError, call_command

from audit.models import AuditEvent
from billing.models import EventStatus, StripeEvent
from customers.models import CustomerStatusChange
from sync.models import SyncJob
from tests import stripe_events as se
from tests.billing.state import final_state
from tests.billing.test_ordering_and_identity import lifecycle

pytestmark = pytest.mark.django_db


def replay(*args) -> str:
    out = io.StringIO()
    call_command("replay_events", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_replaying_everything_twice_changes_nothing(deliver, django_capture_on_commit_callbacks):
    for evt in lifecycle(1) + lifecycle(2):
        deliver(evt)
    state, jobs, changes = final_state(), SyncJob.objects.count(), CustomerStatusChange.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        assert "Replayed 20 events: 20 processed" in replay("--all")
        replay("--all")
    assert final_state() == state
    assert SyncJob.objects.count() == jobs
    assert CustomerStatusChange.objects.count() == changes
    assert AuditEvent.objects.filter(action="event.replayed", source="command").count() == 40


def test_replay_by_id_type_since_and_failed_selects_just_those(deliver):
    events = lifecycle(3)
    for evt in events:
        deliver(evt)
    assert "Replayed 1 events" in replay(events[0]["id"])
    assert "Replayed 2 events" in replay("--type", "invoice.paid", "--type", "invoice.payment_failed")
    assert "Replayed 0 events" in replay("--failed")
    assert "Replayed 10 events" in replay("--since", "2023-11-14")
    assert "Replayed 0 events" in replay("--since", "2030-01-01")


def test_replay_of_a_failed_event_applies_it_once_the_cause_is_gone(deliver):
    evt = se.event("customer.created", se.customer("cus_R1", email="r1@example.com"))
    deliver(evt)
    stored = StripeEvent.objects.get()
    stored.status = EventStatus.FAILED
    stored.save()
    assert "1 processed" in replay("--failed")
    stored.refresh_from_db()
    assert stored.status == EventStatus.PROCESSED


def test_replay_explains_what_it_needs():
    with pytest.raises(CommandError, match="Say which events"):
        replay()
    with pytest.raises(CommandError, match="No stored event with id evt_nope"):
        replay("evt_nope")
    with pytest.raises(CommandError, match="--since takes a date"):
        replay("--since", "last tuesday")
