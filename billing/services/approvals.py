"""An owner's decision on a request above the approval limit (a refund, a subscription change): the
same rules for both. Only an owner decides, never on their own request, only while it waits, and a
rejection says why; the decision is written on the locked row."""

from django.utils import timezone

from billing.errors import BillingError


def decision_note(*, actor, note: str, approve: bool, subject: str, what: str, error: type[BillingError]) -> str:
    """The owner's note, checked before anything is locked. ``subject``: "a refund"; ``what``: "refund"."""
    note = (note or "").strip()[:500]
    if not actor.has_perm("billing.approve_refund"):
        raise error(f"Only an owner can approve or reject {subject}.")
    if not approve and not note:
        raise error(f"Say why the {what} is rejected; the requester sees the note.")
    return note


def decision_write(locked, *, actor, note: str, approve: bool, what: str, error: type[BillingError],
                   waiting: str, approved: str, rejected: str, still_possible=None) -> None:
    """Move ``locked`` (a row locked by the caller, still ``waiting``) to ``approved`` or ``rejected``.
    ``still_possible(locked)`` raises when what was asked can no longer be done (checked on approval)."""
    if locked.requested_by_id == actor.pk:
        raise error(f"You asked for this {what}; another owner has to approve or reject it.")
    if locked.status != waiting:
        raise error(f"This {what} is {locked.get_status_display().lower()} and no longer waits for a decision.")
    if approve and still_possible is not None:
        still_possible(locked)
    locked.status = approved if approve else rejected
    locked.approver, locked.approver_note, locked.decided_at = actor, note, timezone.now()
    if not approve:
        locked.finished_at = locked.decided_at
