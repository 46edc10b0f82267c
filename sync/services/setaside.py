"""Setting a dead job aside: a person decides it will not be fixed, and says why.

A set-aside job stays in the log (filterable, with its note) but leaves the dead-job
alert and the action queue, so the next job that dies is news again. Undo puts it back
to dead; a retry runs it again (``job_retry``).
"""

from django.db import transaction
from django.utils import timezone

from audit.models import Source
from audit.services import audit_record
from sync.errors import SyncError
from sync.models import JobStatus, SyncJob

NOTE_MAX = 300


def job_set_aside(*, job: SyncJob, actor, note: str, source: str = Source.UI) -> SyncJob:
    """Mark a dead job "won't fix" with ``note``; refused for any other status or without a note."""
    note = (note or "").strip()
    if not note:
        raise SyncError("Say why this job will not be fixed, so the next person knows.")
    if len(note) > NOTE_MAX:
        raise SyncError(f"Keep the note under {NOTE_MAX} characters.")
    if job.status != JobStatus.DEAD:
        raise SyncError(f"Only a dead job can be set aside; this one is {job.get_status_display().lower()}.")
    now = timezone.now()
    with transaction.atomic():
        taken = SyncJob.objects.filter(pk=job.pk, status=JobStatus.DEAD).update(
            status=JobStatus.SET_ASIDE, set_aside_note=note, set_aside_at=now, updated_at=now,
            set_aside_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        if not taken:
            raise SyncError("This job changed while you were looking at it; reload and try again.")
        audit_record(action="sync.job_set_aside", source=source, actor=actor, customer=job.customer, target=job,
                     summary=f"Set aside {job.system} {job.action} (#{job.pk}): {note}"[:300],
                     changes={"job": job.pk, "status": [JobStatus.DEAD, JobStatus.SET_ASIDE], "note": note,
                              "reason_code": job.reason_code})
    job.refresh_from_db()
    return job


def job_set_aside_undo(*, job: SyncJob, actor, source: str = Source.UI) -> SyncJob:
    """Put a set-aside job back to dead: it is in the alert and the action queue again."""
    if job.status != JobStatus.SET_ASIDE:
        raise SyncError("This job is not set aside.")
    now = timezone.now()
    with transaction.atomic():
        taken = SyncJob.objects.filter(pk=job.pk, status=JobStatus.SET_ASIDE).update(
            status=JobStatus.DEAD, set_aside_note="", set_aside_at=None, set_aside_by=None, updated_at=now,
        )
        if not taken:
            raise SyncError("This job changed while you were looking at it; reload and try again.")
        audit_record(action="sync.job_set_aside_undo", source=source, actor=actor, customer=job.customer,
                     target=job, summary=f"Put back {job.system} {job.action} (#{job.pk}) as dead",
                     changes={"job": job.pk, "status": [JobStatus.SET_ASIDE, JobStatus.DEAD],
                              "note": job.set_aside_note})
    job.refresh_from_db()
    return job
