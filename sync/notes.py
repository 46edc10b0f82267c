"""A customer's notes reach the CRM as a note on their contact, through the outbox.

customers tells sync of every note written or edited (``note_consumer_register``). The job waits
until the note's edit window has closed, so the CRM receives the final text once (Intercom cannot
edit a note); an edit inside the window rewrites the waiting job's text. Notes internal to finance
never leave Switchboard: a CRM is read by sales and support alike.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from audit.context import current_correlation_id
from customers.models import CustomerNote, System
from sync.models import WAITING_JOB_STATUSES, SyncJob
from sync.services.outbox import fitted_key

NOTE_ACTION = "add_note"
# After the edit window, a moment more: an edit saved in its last second is in the job before it runs.
SEND_MARGIN = timedelta(minutes=1)


def _key(note_id: int) -> str:
    return fitted_key(f"note:{note_id}:{System.CRM}:{NOTE_ACTION}")


@dataclass(frozen=True)
class NoteInCrm:
    status: str  # the job's: pending, running, retrying, succeeded, dead, set_aside
    job_id: int
    due_at: datetime
    simulated: bool


def note_crm_states(note_ids: list[int]) -> dict[int, NoteInCrm]:
    """Where each note stands in the CRM, by note id (one query): the 360 shows it beside the note."""
    keys = {_key(pk): pk for pk in note_ids}
    jobs = SyncJob.objects.filter(idempotency_key__in=list(keys)).values_list(
        "idempotency_key", "status", "pk", "next_attempt_at", "simulated")
    return {keys[key]: NoteInCrm(status, pk, due, simulated) for key, status, pk, due, simulated in jobs}


def _note_payload(note: CustomerNote) -> dict:
    author = note.author
    return {
        "note_id": note.pk,
        "text": note.body,
        "author": (author.get_full_name() or author.email) if author is not None else "",
        "written_at": note.created_at.isoformat(),
        "corrects_written_at": note.corrects.created_at.isoformat() if note.corrects_id else "",
    }


def note_job_write(*, note: CustomerNote) -> SyncJob | None:
    """The CRM job of ``note`` (inside the caller's transaction): written once, due when the edit
    window closes; an edit before then changes its text. The sweeper wakes it when due."""
    if note.internal:
        return None
    key = _key(note.pk)
    payload = _note_payload(note)
    job = SyncJob.objects.filter(idempotency_key=key).first()
    if job is not None:
        SyncJob.objects.filter(pk=job.pk, status__in=WAITING_JOB_STATUSES, attempts=0).update(payload=payload)
        return job
    return SyncJob.objects.create(
        idempotency_key=key,
        customer_id=note.customer_id,
        system=System.CRM,
        action=NOTE_ACTION,
        payload=payload,
        correlation_id=current_correlation_id(),
        next_attempt_at=note.created_at + timedelta(minutes=CustomerNote.EDIT_MINUTES) + SEND_MARGIN,
    )
