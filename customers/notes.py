"""Notes staff write on a customer: writing, editing within the author's window, correcting, reading.

A note is never deleted. Its author may change it for ``CustomerNote.EDIT_MINUTES``; after that a
correction is a new note that points at the old one. Internal notes (for finance) are read by finance and
the owner, and stay in Switchboard. The apps above customers learn of every written or edited
note through ``note_consumer_register`` (sync sends the note to the CRM), inside the same transaction.
"""

from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import Source
from audit.services import audit_record
from customers.models import Customer, CustomerNote
from customers.services import CustomerError

BODY_LIMIT = 10_000
INTERNAL_PERM = "customers.view_internal_notes"  # finance and the owner

NoteConsumer = Callable[..., None]  # called as consumer(note=...) inside the writing transaction
_consumers: dict[str, NoteConsumer] = {}
# note ids -> {note id: where the note stands in the CRM}, from sync (one query for a page of notes)
_crm_states: Callable[[list[int]], dict] = lambda note_ids: {}  # noqa: E731 - until sync says


def note_consumer_register(*, name: str, consumer: NoteConsumer) -> None:
    """Call ``consumer(note=...)`` after each note is written or edited; the same name replaces."""
    _consumers[name] = consumer


def note_crm_states_from(reader: Callable[[list[int]], dict]) -> None:
    """sync: how to read where each note stands in the CRM (waiting, sent, failed), for the 360."""
    global _crm_states
    _crm_states = reader


def note_crm_states(notes: list[CustomerNote]) -> dict:
    return _crm_states([n.pk for n in notes if not n.internal]) if notes else {}


def _tell_consumers(note: CustomerNote) -> None:
    for consumer in list(_consumers.values()):
        consumer(note=note)


def may_read_internal(user) -> bool:
    return user.has_perm(INTERNAL_PERM)


def notes_for(*, customer: Customer, user, limit: int = 50) -> QuerySet[CustomerNote]:
    """The notes on ``customer`` this person may read, newest first (one query)."""
    qs = customer.notes.select_related("author", "corrects")
    if not may_read_internal(user):
        qs = qs.filter(internal=False)
    return qs[:limit]


def note_for(*, customer: Customer, pk: int, user) -> CustomerNote | None:
    """One note of ``customer``, if this person may read it."""
    return notes_for(customer=customer, user=user, limit=None).filter(pk=pk).first() if pk else None


def _clean_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise CustomerError("Write something: a note cannot be empty.")
    if len(body) > BODY_LIMIT:
        raise CustomerError(f"A note holds at most {BODY_LIMIT:,} characters.")
    return body


def note_write(
    *, customer: Customer, body: str, internal: bool, actor, corrects: CustomerNote | None = None,
    source: str = Source.UI,
) -> CustomerNote:
    """Write a note on ``customer``; with ``corrects``, it is a correction of that earlier note."""
    body = _clean_body(body)
    if customer.merged_into_id:
        raise CustomerError("This customer was merged into another; write the note there.")
    if internal and not may_read_internal(actor):
        raise CustomerError("Only finance and the owner may write notes internal to finance.")
    if corrects is not None:
        if corrects.customer_id != customer.pk:
            raise CustomerError("A correction belongs to the same customer as the note it corrects.")
        internal = internal or corrects.internal  # a correction of an internal note is not shown to more people
    with transaction.atomic():
        note = CustomerNote.objects.create(
            customer=customer, author=actor, body=body, internal=internal, corrects=corrects
        )
        what = "Correction" if corrects is not None else "Note"
        audit_record(
            action="customers.note_correct" if corrects is not None else "customers.note_write",
            source=source,
            actor=actor,
            customer=customer,
            target=note,
            summary=f"{what} written" + (" (internal to finance)" if internal else ""),
            changes={"internal": internal, "corrects": corrects.pk if corrects else None, "length": len(body)},
        )
        _tell_consumers(note)
    return note


def note_edit(*, note: CustomerNote, body: str, actor, source: str = Source.UI) -> CustomerNote:
    """The author changes their note's text within the edit window; nobody else, and never later."""
    body = _clean_body(body)
    with transaction.atomic():
        locked = CustomerNote.objects.select_for_update().get(pk=note.pk)
        if locked.author_id != actor.pk:
            raise CustomerError("Only the note's author may edit it; write a correction instead.")
        now = timezone.now()
        if not locked.editable_by(actor, now):
            raise CustomerError(
                f"Notes can be edited for {CustomerNote.EDIT_MINUTES} minutes; write a correction instead."
            )
        if locked.body == body:
            return locked
        locked.body, locked.edited_at = body, now
        locked.save(update_fields=["body", "edited_at"])
        audit_record(
            action="customers.note_edit",
            source=source,
            actor=actor,
            customer=locked.customer,
            target=locked,
            summary="Note edited" + (" (internal to finance)" if locked.internal else ""),
            changes={"length": len(body)},
        )
        _tell_consumers(locked)
    return locked
