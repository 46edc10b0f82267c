"""Support's part of the queue: what needs the support desk.

Tickets the desk does not have yet (no customer matched, or the desk is failing), paying
customers who cannot get in, and for people who do not handle money, the failed payments
and disputes whose ticket is open (finance sees those as money, under billing's kinds).
"""

from django.db.models import Exists, F, OuterRef, Q

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, one_group, open_items, page_of
from billing.models import Dispute, Invoice
from billing.queue_items import dispute_group, failed_payment_group
from customers.models import CustomerStatus, System
from support.models import ChangeState, Ticket, TicketChange, TicketStatus
from sync.models import JobStatus, SyncJob

CLOSED_TICKET = [TicketStatus.SOLVED, TicketStatus.CLOSED]


# Not in the desk, and not on its way: no job sends it, or the desk keeps failing it (the job failed,
# or a batch the desk's failure stopped handed it back untried, with that failure as its last error).
NOT_ON_ITS_WAY = Q(status=TicketStatus.PENDING) & (
    Q(sync_job__isnull=True)
    | Q(sync_job__status__in=[JobStatus.RETRYING, JobStatus.DEAD])
    | (Q(sync_job__status=JobStatus.PENDING) & ~Q(sync_job__last_error=""))
)


def support_ticket_items(ctx: QueueContext) -> list[ActionGroup]:
    """Tickets kept here that the support desk does not have yet: never sent, or the desk is failing."""
    qs = open_items(
        Ticket.objects.filter(NOT_ON_ITS_WAY), kind="support_ticket", since=F("created_at"), ctx=ctx
    ).select_related("sync_job")
    count, rows = page_of(qs, ctx, shown=("customer_id", "subject", "sync_job__status", "sync_job__last_error"))
    items = [
        ActionItem(
            kind="support_ticket",
            object_id=str(t.pk),
            what=f"Ticket not in the support desk: {t.subject}",
            reason="No single customer has this email; link it to one"
            if t.customer_id is None and t.sync_job is None
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


def unlinked_message_items(ctx: QueueContext) -> list[ActionGroup]:
    """Form messages from an email no single customer has: sent to the desk at once, waiting to be linked."""
    qs = open_items(
        Ticket.objects.filter(needs_match=True, customer__isnull=True).exclude(NOT_ON_ITS_WAY),
        kind="unlinked_message", since=F("created_at"), ctx=ctx, customer_path=None,
    )
    count, rows = page_of(qs, ctx, shown=("subject", "requester_email", "status", "external_id"))
    items = [
        ActionItem(
            kind="unlinked_message",
            object_id=str(t.pk),
            what=f"Message from {t.requester_email or 'an unknown sender'}: {t.subject}",
            reason=_unlinked_reason(t),
            since=t.q_since,
            url=ctx.url("support_ticket_detail", t.pk),
            url_label="Link",
            actions=("assign", "resolve"),
        )
        for t in rows
    ]
    return one_group("unlinked_message", "Form messages to link to a customer", count, items)


def _unlinked_reason(ticket: Ticket) -> str:
    if ticket.status == TicketStatus.PENDING:
        return "Being sent to the desk; link it to a customer"
    where = f" as ticket {ticket.external_id}" if ticket.external_id else ""
    return f"Sent to the desk{where} ({ticket.get_status_display().lower()}); link it to a customer"


def refused_change_items(ctx: QueueContext) -> list[ActionGroup]:
    """Changes of a ticket the desk refused for good: the desk's reason is the job's last error. A retry of
    the job from the queue takes the change off this list while it runs again."""
    qs = open_items(
        TicketChange.objects.filter(state=ChangeState.PENDING, sync_job__status=JobStatus.DEAD),
        kind="refused_ticket_change", since=F("sync_job__finished_at"), changed=F("sync_job__updated_at"), ctx=ctx,
        customer_path="ticket__customer",
    ).select_related("ticket", "sync_job")
    count, rows = page_of(qs, ctx, shown=("kind", "fields", "body", "ticket__customer_id", "ticket__subject",
                                       "sync_job__last_error"))
    items = [
        ActionItem(
            kind="refused_ticket_change",
            object_id=str(change.pk),
            what=f"Change refused by the desk: {change.summary} on “{change.ticket.subject}”",
            reason=change.sync_job.last_error or "The desk refused it",
            since=change.q_since,
            customer_id=change.ticket.customer_id,
            url=ctx.url("support_ticket_detail", change.ticket_id),
            url_label="Open ticket",
            actions=("assign", "resolve"),
        )
        for change in rows
    ]
    return one_group("refused_ticket_change", "Ticket changes the desk refused", count, items)


def no_access_items(ctx: QueueContext) -> list[ActionGroup]:
    """Paying customers whose community access has not been granted: the grant is dead or still retrying."""
    qs = open_items(
        SyncJob.objects.filter(
            system=System.COMMUNITY, action="grant_access", status__in=[JobStatus.DEAD, JobStatus.RETRYING],
            customer__status__in=[CustomerStatus.ACTIVE, CustomerStatus.PAST_DUE], customer__mrr__gt=0,
        ),
        kind="no_access", since=F("created_at"), ctx=ctx,
    )
    count, rows = page_of(qs, ctx, shown=("customer_id", "status", "last_error", "created_at"))
    items = [
        ActionItem(
            kind="no_access",
            object_id=str(job.pk),
            what="Paying customer without community access",
            reason=("The invitation failed for good" if job.status == JobStatus.DEAD else "The invitation is still retrying")
            + (f": {job.last_error}" if job.last_error else ""),
            since=job.q_since,
            customer_id=job.customer_id,
            url=ctx.url("job_detail", job.pk),
            url_label="Details",
            actions=("assign", "resolve"),
        )
        for job in rows
    ]
    return one_group("no_access", "Paying customers without access", count, items)


# The facts that open a ticket about a failed payment or a dispute: the Stripe event, or the status the
# mapping rules open a ticket for.
PAYMENT_FAILED_FACTS = ["invoice.payment_failed", "status:past_due"]
DISPUTE_FACTS = ["charge.dispute.created"]


def _open_ticket(facts: list[str]) -> Exists:
    tickets = Ticket.objects.filter(customer=OuterRef("customer_id"), fact__in=facts)
    return Exists(tickets.exclude(status__in=CLOSED_TICKET))


def ticketed_failed_payment_items(ctx: QueueContext) -> list[ActionGroup]:
    return failed_payment_group(
        ctx,
        Invoice.objects.filter(payment_failed=True, status="open", customer__isnull=False)
        .filter(_open_ticket(PAYMENT_FAILED_FACTS)),
        kind="ticketed_failed_payment", title="Failed payments with an open ticket",
        why=lambda inv: f"Invoice {inv.number or inv.stripe_id}; the customer's ticket is open",
    )


def ticketed_dispute_items(ctx: QueueContext) -> list[ActionGroup]:
    return dispute_group(
        ctx, Dispute.objects.open().filter(customer__isnull=False).filter(_open_ticket(DISPUTE_FACTS)),
        kind="ticketed_dispute", title="Open disputes with an open ticket",
        why=lambda d: f"{d.reason.replace('_', ' ') or 'No reason given'}; the customer's ticket is open",
    )


def _answers_customers(user) -> bool:
    return user.has_perm("support.open_ticket")


def _answers_but_not_money(user) -> bool:
    """Support, not finance: whoever handles money sees failed payments and disputes as billing's items."""
    return user.has_perm("support.view_ticket") and not user.has_perm("billing.issue_refund")


def register() -> None:
    registry.register(registry.Kind(
        "support_ticket", support_ticket_items, _answers_customers, model=Ticket,
        watches="tickets the support desk has not accepted",
    ))
    registry.register(registry.Kind(
        "unlinked_message", unlinked_message_items, _answers_customers, model=Ticket, customer_path=None,
        watches="form messages from people who are not linked to a customer",
    ))
    registry.register(registry.Kind(
        "refused_ticket_change", refused_change_items, _answers_customers, model=TicketChange,
        customer_path="ticket__customer", watches="ticket changes the support desk refused",
    ))
    registry.register(registry.Kind(
        "no_access", no_access_items, _answers_customers, model=SyncJob,
        watches="paying customers whose community access did not go through",
    ))
    registry.register(registry.Kind(
        "ticketed_failed_payment", ticketed_failed_payment_items, _answers_but_not_money, model=Invoice,
        watches="failed payments whose ticket is open",
    ))
    registry.register(registry.Kind(
        "ticketed_dispute", ticketed_dispute_items, _answers_but_not_money, model=Dispute,
        watches="open disputes whose ticket is open",
    ))
