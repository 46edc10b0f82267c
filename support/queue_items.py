"""Support's part of the queue: tickets the support desk does not have yet."""

from django.db.models import F, Q

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, one_group, open_items, page_of
from support.models import Ticket, TicketStatus
from sync.models import JobStatus


def support_ticket_items(ctx: QueueContext) -> list[ActionGroup]:
    """Tickets kept here that the support desk does not have yet: no customer matched, or the desk is failing."""
    waiting = Q(needs_match=True) | Q(sync_job__isnull=True) | Q(sync_job__status__in=[JobStatus.RETRYING, JobStatus.DEAD])
    qs = open_items(
        Ticket.objects.filter(waiting, status=TicketStatus.PENDING), kind="support_ticket", since=F("created_at"), ctx=ctx
    ).select_related("sync_job")
    count, rows = page_of(qs, ctx, shown=("customer_id", "subject", "sync_job__status", "sync_job__last_error"))
    items = [
        ActionItem(
            kind="support_ticket",
            object_id=str(t.pk),
            what=f"Ticket not in the support desk: {t.subject}",
            reason="No single customer has this email; link it to one"
            if t.customer_id is None
            else f"The desk has not accepted it yet ({t.sync_job.last_error or t.sync_job.status if t.sync_job else 'no job'})",
            since=t.q_since,
            customer_id=t.customer_id,
            url=ctx.url("support_ticket_detail", t.pk),
            url_label="Open ticket",
            actions=("assign", "resolve"),
        )
        for t in rows
    ]
    return one_group("support_ticket", "Tickets waiting for the support desk", count, items)


def register() -> None:
    registry.register(registry.Kind(
        "support_ticket", support_ticket_items, lambda user: user.has_perm("support.open_ticket"), model=Ticket,
    ))
