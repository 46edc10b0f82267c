"""What the desk tells us: the job that created a ticket succeeded, or a webhook carries a new status."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q

from audit.models import Source
from audit.services import audit_record
from support.models import DeskDelivery, Ticket, TicketStatus
from support.services.changes import ticket_changes_confirm
from sync.models import SyncJob
from sync.providers.sandbox import ID_PREFIX

# Zendesk's ticket statuses -> ours ("pending" there means waiting for the customer); a desk whose
# door already speaks ours (Intercom's) sends "waiting" itself.
DESK_STATUSES = {
    "new": TicketStatus.NEW,
    "open": TicketStatus.OPEN,
    "pending": TicketStatus.WAITING,
    "waiting": TicketStatus.WAITING,
    "hold": TicketStatus.HOLD,
    "solved": TicketStatus.SOLVED,
    "closed": TicketStatus.CLOSED,
}


def ticket_confirm(*, job: SyncJob, external_id: str) -> None:
    """The desk created the ticket: our copy leaves ``pending`` (inside the executor's transaction).
    A simulated ticket sent for real later (``job.replay_of``) takes the real desk's id."""
    tickets = Ticket.objects.filter(sync_job_id=job.replay_of_id or job.pk)
    tickets.filter(status=TicketStatus.PENDING).update(status=TicketStatus.NEW, external_id=external_id[:100])
    replaced = Q(external_id="")
    if job.replay_of_id:
        replaced |= Q(external_id__startswith=ID_PREFIX)
    tickets.filter(replaced).update(external_id=external_id[:100])


def desk_delivery_apply(
    *,
    delivery_id: str,
    event_type: str,
    desk_id: str,
    external_id: str,
    status: str,
    changed_at: datetime | None,
    payload: dict,
) -> tuple[str, bool]:
    """Store one desk webhook delivery once and apply the status it carries. Returns (outcome, duplicate)."""
    try:
        with transaction.atomic():
            delivery = DeskDelivery.objects.create(
                delivery_id=delivery_id[:200], event_type=event_type[:100], payload=payload
            )
            outcome = _apply_status(
                delivery, desk_id=desk_id, external_id=external_id, status=status, changed_at=changed_at
            )
            delivery.outcome = outcome
            delivery.save(update_fields=["outcome", "ticket"])
    except IntegrityError:
        if not DeskDelivery.objects.filter(delivery_id=delivery_id[:200]).exists():
            raise
        return "duplicate", True
    return outcome, False


def _apply_status(
    delivery: DeskDelivery, *, desk_id: str, external_id: str, status: str, changed_at: datetime | None
) -> str:
    ours = DESK_STATUSES.get((status or "").strip().lower())
    if ours is None:
        return "no_status"
    match = Q(external_id=desk_id) if desk_id else Q(pk__in=[])
    if external_id:
        match |= Q(sync_job__idempotency_key=external_id)
    ticket = (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("customer")  # the audit record names the customer
        .filter(match)
        .order_by("pk")
        .first()
    )
    if ticket is None:
        return "unknown_ticket"
    delivery.ticket = ticket
    if changed_at and ticket.desk_updated_at and changed_at < ticket.desk_updated_at:
        return "stale"  # an older change arriving late must not undo a newer one
    previous = ticket.status
    ticket.status = ours
    ticket.external_id = ticket.external_id or desk_id[:100]
    ticket.desk_updated_at = changed_at or ticket.desk_updated_at
    ticket.save(update_fields=["status", "external_id", "desk_updated_at", "updated_at"])
    ticket_changes_confirm(ticket=ticket, status=ours)  # a status asked from Switchboard holds now
    if previous != ours:
        audit_record(
            action="support.ticket_status",
            source=Source.WEBHOOK,
            customer=ticket.customer,
            target=ticket,
            summary=f"Desk says the ticket is {ours}",
            changes={"status": [previous, ours]},
        )
    return "applied"
