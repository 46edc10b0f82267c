"""Changes people make to a desk ticket from Switchboard: status, priority, group, a reply or a comment.

Each change is a row (``TicketChange``) written with the outbound job that carries it to the desk, in one
transaction. The job is the desk ticket's ``update_ticket``, the same action that hands a ticket to its
customer: the adapter finds the desk's ticket the same way for both. The desk accepting the call confirms
a change of priority, group or text; a status change is confirmed when the desk's own webhook reports it.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.context import current_correlation_id
from audit.models import Source
from audit.services import audit_record
from customers.models import System
from support.errors import SupportError
from support.models import ChangeKind, ChangeState, Ticket, TicketChange, TicketPriority, TicketStatus
from support.services.planning import TICKET_UPDATE_ACTION
from support.services.routing import routing_rule_current
from sync.models import SyncJob
from sync.services.outbox import idempotency_key, jobs_enqueue_on_commit

# What a person may set; the desk itself moves tickets to "new" and "closed".
CHANGE_STATUSES = [TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.HOLD, TicketStatus.SOLVED]
OPEN_CHANGES = [ChangeState.PENDING, ChangeState.SENT]


def desk_groups(ticket: Ticket | None = None) -> list[str]:
    """The groups a ticket may be assigned to: those the routing rules route to (and its own)."""
    groups = {route.get("group", "") for route in routing_rule_current().rules.get("routes", [])}
    if ticket is not None:
        groups.add(ticket.group)
    return sorted(g for g in groups if g)


def _asked(ticket: Ticket, *, status: str, priority: str, group: str) -> dict:
    """What differs from the ticket as we know it, validated; an unknown value is a sentence."""
    fields = {}
    if status and status != ticket.status:
        if status not in CHANGE_STATUSES:
            raise SupportError(f"“{status}” is not a status Switchboard can set; choose open, waiting, on hold "
                               "or solved.")
        fields["status"] = status
    if priority and priority != ticket.priority:
        if priority not in TicketPriority.values:
            raise SupportError(f"“{priority}” is not a priority; choose low, normal, high or urgent.")
        fields["priority"] = priority
    if group and group != ticket.group:
        if group not in desk_groups():
            raise SupportError(f"“{group}” is not a group in the routing rules; choose one of "
                               f"{', '.join(desk_groups())}.")
        fields["group"] = group
    return fields


def ticket_change(
    *,
    ticket: Ticket,
    actor,
    token: str,
    status: str = "",
    priority: str = "",
    group: str = "",
    body: str = "",
    public: bool = False,
    source: str = Source.UI,
) -> TicketChange:
    """A person changes a desk ticket and/or writes on it. ``token`` makes a double submit one change."""
    key = f"change:{token}"
    try:
        with transaction.atomic():
            return _change(ticket, actor, key, status, priority, group, body.strip(), public, source)
    except IntegrityError:  # the same submit, twice at once: the first one stands
        return TicketChange.objects.get(idempotency_key=key)


def _change(ticket, actor, key, status, priority, group, body, public, source) -> TicketChange:
    # Two submits of one form at once: the second waits for the ticket's lock, then finds the first.
    locked = Ticket.objects.select_for_update(of=("self",)).select_related("customer", "sync_job").get(pk=ticket.pk)
    existing = TicketChange.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    if locked.sync_job is None:
        raise SupportError("This ticket is not in the desk yet: link it to a customer first.")
    if locked.status == TicketStatus.CLOSED:
        raise SupportError("The desk has closed this ticket and takes no more changes; open a new case instead.")
    fields = _asked(locked, status=status, priority=priority, group=group)
    if not fields and not body:
        raise SupportError("Nothing to change: choose a new status, priority or group, or write a reply.")
    kind = ChangeKind.UPDATE if not body else (ChangeKind.REPLY if public else ChangeKind.COMMENT)
    change = TicketChange.objects.create(
        ticket=locked, kind=kind, fields=fields, body=body, idempotency_key=key, actor=actor
    )
    change.sync_job = _change_job(change, locked)
    change.save(update_fields=["sync_job", "updated_at"])
    audit_record(
        action="support.ticket_change",
        source=source,
        actor=actor,
        customer=locked.customer,
        target=locked,
        summary=f"Ticket “{locked.subject}”: {change.summary} (pending at the desk)",
        changes={"fields": fields, "kind": kind, "change": change.pk, "desk_job": change.sync_job.pk},
    )
    jobs_enqueue_on_commit(job_ids=[change.sync_job.pk])
    return change


def _change_job(change: TicketChange, ticket: Ticket) -> SyncJob:
    created_by = ticket.sync_job
    desk_change = dict(change.fields)
    if change.body:
        desk_change["comment"] = {"body": change.body, "public": change.kind == ChangeKind.REPLY}
        # when it was asked: a desk without an idempotency key looks for the text written since, on a retry
        desk_change["asked_at"] = int(change.created_at.timestamp())
    return SyncJob.objects.create(
        customer=ticket.customer,
        system=System.SUPPORT,
        action=TICKET_UPDATE_ACTION,
        idempotency_key=idempotency_key(
            cause=f"change:{change.pk}", customer=ticket.customer, system=System.SUPPORT,
            action=TICKET_UPDATE_ACTION, ticket_id=ticket.pk,
        ),
        payload={
            "ticket_id": ticket.pk,
            "change_id": change.pk,
            "desk_ticket_key": created_by.idempotency_key,
            "desk_job_id": created_by.pk,  # the desk's id is read from it (or its replay) when the job runs
            "desk_ticket_id": ticket.external_id,
            "change": desk_change,
        },
        correlation_id=current_correlation_id(),
    )


def ticket_change_sent(*, job: SyncJob, external_id: str) -> None:
    """The desk accepted the call (a success hook, inside the executor's transaction).

    Priority and group are ours to show now; a status waits for the desk's webhook, which may have
    come first (then the change is confirmed already and nothing here moves it back)."""
    change = TicketChange.objects.filter(sync_job_id=job.pk).select_related("ticket").first()
    if change is None:  # the hand-over of a ticket to its customer, not a person's change
        return
    now = timezone.now()
    state = ChangeState.SENT if "status" in change.fields else ChangeState.CONFIRMED
    TicketChange.objects.filter(pk=change.pk, state=ChangeState.PENDING).update(
        state=state, confirmed_at=now if state == ChangeState.CONFIRMED else None, updated_at=now
    )
    # The desk took these values, whether or not its webhook already confirmed the change.
    shown = {k: change.fields[k][:100] for k in ("priority", "group") if k in change.fields}
    if shown:
        Ticket.objects.filter(pk=change.ticket_id).update(**shown, updated_at=now)
    if external_id.isdigit():
        Ticket.objects.filter(pk=change.ticket_id, external_id="").update(external_id=external_id[:100])


def ticket_changes_confirm(*, ticket: Ticket, status: str) -> int:
    """The desk's webhook says ``ticket`` is ``status`` now: the open changes that asked for it hold."""
    now = timezone.now()
    return TicketChange.objects.filter(ticket=ticket, state__in=OPEN_CHANGES, fields__status=status).update(
        state=ChangeState.CONFIRMED, confirmed_at=now, updated_at=now
    )
