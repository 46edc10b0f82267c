"""Stripe's order of events, on plain values: which of two events touching one object is the later.

Stripe's ``created`` has one-second resolution. Within one second, an event that usually comes later in an
object's life wins; equal ranks fall back to the event id, so the outcome never depends on the order of
delivery. A deletion is final.
"""

from datetime import datetime

_LATE_IN_LIFE = {
    ".created": 0,
    "payment_failed": 1,
    ".failed": 1,
    ".updated": 2,
    ".trial_will_end": 2,
    "succeeded": 3,
    ".paid": 3,
    ".refunded": 4,
    ".closed": 5,
    ".deleted": 6,
}

EventPlace = tuple[datetime, int, str]  # (created, rank, event id)


def event_rank(event_type: str) -> int:
    for suffix, rank in _LATE_IN_LIFE.items():
        if event_type.endswith(suffix):
            return rank
    return 2


def event_place(*, created: datetime, event_type: str, event_id: str) -> EventPlace:
    """Where an event stands in Stripe's order (the same whatever order it arrived in)."""
    return (created, event_rank(event_type), event_id)


def event_is_stale(*, event: EventPlace, deleting: bool, applied: EventPlace | None, deleted: bool) -> bool:
    """Whether an event must be skipped on an object whose newest applied event is ``applied`` (None: none
    yet) and which is ``deleted`` or not. Deletion is final: nothing undoes it, and it applies even over a
    newer-looking update."""
    if deleted != deleting:
        return deleted
    return applied is not None and event < applied
