"""The queue's own actions: take an item, or resolve it with a note. Each is on the audit record."""

from django.db import transaction
from django.utils import timezone

from action_queue.models import ActionItemState
from audit.services import audit_record


class QueueError(Exception):
    """A queue action that cannot be done, with a sentence a person can read."""


def action_item_assign(*, kind: str, object_id: str, assignee, actor, source: str) -> ActionItemState:
    """Make ``assignee`` the owner of one queue item (None releases it)."""
    with transaction.atomic():
        state, _ = ActionItemState.objects.select_for_update().get_or_create(kind=kind, object_id=str(object_id))
        state.assigned_to = assignee
        state.save(update_fields=["assigned_to", "updated_at"])
        who = assignee.email if assignee is not None else "nobody"
        audit_record(action="queue.assign", source=source, actor=actor, target=state,
                     summary=f"Assigned {kind} {object_id} to {who}", changes={"assigned_to": who})
    return state


def action_item_resolve(*, kind: str, object_id: str, note: str, actor, source: str) -> ActionItemState:
    """Take one item off the queue with a note saying what was done. It returns if its row changes later."""
    note = (note or "").strip()
    if not note:
        raise QueueError("Write a short note saying what you did, so the next person knows.")
    with transaction.atomic():
        state, _ = ActionItemState.objects.select_for_update().get_or_create(kind=kind, object_id=str(object_id))
        state.resolved_at, state.resolved_by, state.resolved_note = timezone.now(), actor, note[:500]
        state.save(update_fields=["resolved_at", "resolved_by", "resolved_note", "updated_at"])
        audit_record(action="queue.resolve", source=source, actor=actor, target=state,
                     summary=f"Resolved {kind} {object_id}: {note}"[:300], changes={"note": note[:500]})
    return state
