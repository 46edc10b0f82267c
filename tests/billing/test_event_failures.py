"""An event that can never apply fails once, with its reason; one that may apply later is retried."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from action_queue.selectors import action_items_for
from billing.models import Charge, EventStatus, Refund, StripeEvent
from billing.parsing import event_envelope
from billing.services import event_process
from billing.tasks import sweep_events
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


@contextmanager
def database_refuses_inserts_into(table: str):
    """A real refusal from the database, as a lock timeout gives: a trigger fails every INSERT into ``table``."""
    if connection.vendor == "sqlite":
        create = [f"CREATE TRIGGER refuse_inserts BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'busy'); END"]
        drop = ["DROP TRIGGER refuse_inserts"]
    else:
        create = [
            "CREATE FUNCTION refuse_inserts() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'busy' USING ERRCODE = 'lock_not_available'; END $$",
            f"CREATE TRIGGER refuse_inserts BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_inserts()",
        ]
        drop = [f"DROP TRIGGER refuse_inserts ON {table}", "DROP FUNCTION refuse_inserts()"]
    with connection.cursor() as cursor:
        for sql in create:
            cursor.execute(sql)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in drop:
                cursor.execute(sql)


def stored(evt: dict) -> StripeEvent:
    env = event_envelope(evt)
    return StripeEvent.objects.create(stripe_id=env.id, type=env.type, created=env.created, payload=env.raw)


def sweep_later(hours: float = 2) -> None:
    """Let every retry that could be due come due, and run the sweeper's pass over failed events."""
    with time_machine.travel(timezone.now() + timedelta(hours=hours)):
        sweep_events()


def test_a_payload_that_can_never_apply_fails_once_with_its_reason_and_is_not_retried(deliver, owner):
    bad_refund = se.refund("re_B2", "ch_B1", amount=100)
    bad_refund["amount"] = "12.50"  # a malformed amount in an otherwise valid charge
    evt = se.event("charge.refunded", se.charge("ch_B1", "cus_B1", amount=4900, amount_refunded=100,
                                                 refunds=[se.refund("re_B1", "ch_B1", amount=100), bad_refund]))
    assert deliver(evt).status_code == 200
    event = StripeEvent.objects.get()
    assert (event.status, event.attempts, event.next_attempt_at) == (EventStatus.FAILED, 1, None)
    assert event.error_class == "EventShapeError" and "amount is not an integer" in event.last_error
    assert "Not retried" in event.last_error
    assert not Charge.objects.exists() and not Refund.objects.exists()  # one transaction: nothing half-applied

    sweep_later()
    event.refresh_from_db()
    assert event.attempts == 1, "a payload error is not tried again"

    items = {g.key: g for g in action_items_for(user=owner).groups}["failed_event"].items
    assert [i.object_id for i in items] == [str(event.pk)]
    assert "amount is not an integer" in items[0].reason and "Not retried" in items[0].reason


def test_a_number_too_large_to_store_fails_once_without_retries(deliver):
    evt = se.event("charge.succeeded", se.charge("ch_O1", "cus_O1", amount=2**70))
    assert deliver(evt).status_code == 200
    event = StripeEvent.objects.get()
    # SQLite's driver refuses the number itself; PostgreSQL answers "bigint out of range".
    assert event.error_class in ("OverflowError", "DataError")
    assert (event.status, event.attempts, event.next_attempt_at) == (EventStatus.FAILED, 1, None)
    assert "too large" in event.last_error or "out of range" in event.last_error
    assert "2361183241434822606848" not in event.last_error  # the value itself is not repeated
    sweep_later()
    event.refresh_from_db()
    assert event.attempts == 1


def test_a_refusal_that_may_pass_is_retried_and_applies_once_the_cause_is_gone(settings):
    event = stored(se.event("charge.succeeded", se.charge("ch_T1", "cus_T1")))
    with database_refuses_inserts_into(Charge._meta.db_table):
        assert event_process(event_id=event.pk) == EventStatus.FAILED
    event.refresh_from_db()
    assert event.next_attempt_at is not None and event.attempts == 1
    assert "Not retried" not in event.last_error
    with time_machine.travel(event.next_attempt_at + timedelta(seconds=1)):
        sweep_events()  # the test worker runs eagerly: the sweep applies it now
    event.refresh_from_db()
    assert (event.status, event.attempts) == (EventStatus.PROCESSED, 2)
    assert Charge.objects.filter(stripe_id="ch_T1").exists()


def test_a_refusal_that_may_pass_stops_being_retried_after_the_configured_attempts(settings):
    settings.STRIPE_EVENT_MAX_ATTEMPTS = 2
    event = stored(se.event("charge.succeeded", se.charge("ch_F1", "cus_F1")))
    with database_refuses_inserts_into(Charge._meta.db_table):
        event_process(event_id=event.pk)
        event.refresh_from_db()
        assert event.next_attempt_at is not None
        event_process(event_id=event.pk)
    event.refresh_from_db()
    assert (event.status, event.attempts, event.next_attempt_at) == (EventStatus.FAILED, 2, None)
