"""Stripe's order of events on plain values: no database (pytest-django refuses it here)."""

from datetime import UTC, datetime, timedelta

from billing.ordering import event_is_stale, event_place, event_rank

T = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)


def _place(event_type: str, event_id: str = "evt_1", at: datetime = T):
    return event_place(created=at, event_type=event_type, event_id=event_id)


def test_within_one_second_the_later_step_of_an_objects_life_ranks_higher():
    life = ["customer.subscription.created", "invoice.payment_failed", "customer.subscription.updated",
            "invoice.paid", "charge.refunded", "charge.dispute.closed", "customer.subscription.deleted"]
    assert [event_rank(t) for t in life] == sorted(event_rank(t) for t in life)
    assert event_rank("payment_intent.succeeded") > event_rank("payment_intent.payment_failed")
    assert event_rank("something.unheard_of") == event_rank("customer.updated")


def test_an_older_event_is_stale_and_a_newer_one_applies():
    applied = _place("customer.subscription.updated", "evt_5")
    assert event_is_stale(event=_place("customer.subscription.created", "evt_9"), deleting=False,
                          applied=applied, deleted=False)
    assert not event_is_stale(event=_place("invoice.paid", "evt_1"), deleting=False, applied=applied, deleted=False)
    later = _place("customer.subscription.created", "evt_0", at=T + timedelta(seconds=1))
    assert not event_is_stale(event=later, deleting=False, applied=applied, deleted=False)


def test_equal_rank_in_the_same_second_falls_back_to_the_event_id_whatever_the_arrival_order():
    a, b = _place("customer.updated", "evt_a"), _place("customer.updated", "evt_b")
    assert event_is_stale(event=a, deleting=False, applied=b, deleted=False)
    assert not event_is_stale(event=b, deleting=False, applied=a, deleted=False)


def test_deletion_is_final_and_applies_over_a_newer_looking_update():
    newer_update = _place("customer.updated", at=T + timedelta(hours=1))
    assert not event_is_stale(event=_place("customer.deleted"), deleting=True, applied=newer_update, deleted=False)
    assert event_is_stale(event=newer_update, deleting=False, applied=_place("customer.deleted"), deleted=True)


def test_the_first_event_on_an_object_always_applies():
    assert not event_is_stale(event=_place("invoice.created"), deleting=False, applied=None, deleted=False)
