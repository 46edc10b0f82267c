"""Tickets people open: staff on a customer, anyone through the public form, and linking a form ticket."""

import structlog
from django.db import IntegrityError, transaction

from audit.models import Source
from audit.services import audit_record
from core.logs import log_hash
from core.text import shortened
from customers.models import Customer
from support.errors import SupportError
from support.models import Ticket, TicketCategory, TicketSource
from support.services.planning import customer_tags, desk_job, desk_update_job, ticket_write
from sync.models import SyncJob
from sync.services.outbox import jobs_enqueue_on_commit

log = structlog.get_logger(__name__)


def ticket_open(
    *,
    customer: Customer,
    subject: str,
    category: str,
    priority: str,
    note: str,
    actor,
    token: str,
    source: str = Source.UI,
) -> Ticket:
    """A person opens a case on a customer. ``token`` makes a double submit open one ticket."""
    if customer.merged_into_id:
        raise SupportError("This customer was merged into another; open the case there.")
    key = f"staff:{token}"
    try:
        ticket = _staff_ticket(key, customer, subject, category, priority, note, actor, source)
    except IntegrityError:  # the same submit, twice at once: the first one stands
        ticket = Ticket.objects.get(idempotency_key=key)
    return ticket


def _staff_ticket(key, customer, subject, category, priority, note, actor, source) -> Ticket:
    with transaction.atomic():
        ticket, job, created = ticket_write(
            key=key,
            customer=customer,
            subject=subject,
            category=category,
            priority=priority,
            text=note,
            source=TicketSource.STAFF,
            opened_by=actor,
        )
        if created:
            audit_record(
                action="support.ticket_open",
                source=source,
                actor=actor,
                customer=customer,
                target=ticket,
                summary=f"Support case opened: {ticket.subject}",
                changes={"priority": ticket.priority, "group": ticket.group, "category": category},
            )
            jobs_enqueue_on_commit(job_ids=[job.pk])
    return ticket


def customer_for_email(email: str) -> Customer | None:
    """The one live customer with this email, or None when there is none or more than one."""
    matches = list(Customer.objects.live().filter(email__iexact=email.strip()).exclude(email="")[:2])
    return matches[0] if len(matches) == 1 else None


URGENCY_LABELS = {"low": "can wait a few days", "normal": "an answer today", "high": "cannot work until fixed"}


def ticket_submit(
    *, name: str, email: str, category: str, message: str, token: str, urgency: str = "", plan: str = "",
    device: str = "",
) -> Ticket:
    """A person writes in through the public form. Stored first; the desk gets it when it can.

    Their urgency can raise the routed priority, never lower it; the plan they name routes the
    message only when no customer has their email (a matched customer's plan is the billing one).
    """
    customer = customer_for_email(email)
    topic = dict(TicketCategory.choices).get(category, "Support request")
    subject = f"{topic}: {shortened(message.strip().splitlines()[0], 80)}"
    key = f"form:{token}"
    asked = [f"Urgency (as given): {URGENCY_LABELS[urgency]}" if urgency in URGENCY_LABELS else "",
             f"Plan (as given): {plan.strip()}" if plan.strip() else "",
             f"Device: {device.strip()}" if device.strip() else ""]
    if any(asked):
        message = message.rstrip() + "\n\n" + "\n".join(line for line in asked if line)
    priority = urgency if urgency in URGENCY_LABELS else None
    try:
        ticket = _form_ticket(key, customer, subject, name, email, category, message, priority=priority,
                              plan_hint=plan.strip())
    except IntegrityError:  # the same submit, twice at once: the first one stands
        ticket = Ticket.objects.get(idempotency_key=key)
    log.info(
        "support.form_ticket",
        ticket_id=ticket.pk,
        matched=ticket.customer_id is not None,
        email=log_hash(email.lower()),
    )
    return ticket


def _form_ticket(key, customer, subject, name, email, category, message, *, priority=None, plan_hint="") -> Ticket:
    with transaction.atomic():
        ticket, job, created = ticket_write(
            key=key,
            customer=customer,
            subject=subject,
            category=category,
            priority=priority,
            plan_hint=plan_hint,
            text=message,
            source=TicketSource.FORM,
            requester={"name": name, "email": email},
        )
        if created:
            audit_record(
                action="support.ticket_submit",
                source=Source.UI,
                customer=customer,
                target=ticket,
                summary="Support form submitted" + ("" if customer else " (no single customer matched)"),
                changes={"priority": ticket.priority, "group": ticket.group, "matched": customer is not None},
            )
            if job is not None:
                jobs_enqueue_on_commit(job_ids=[job.pk])
    return ticket


def ticket_link(*, ticket: Ticket, customer: Customer, actor, source: str = Source.UI) -> Ticket:
    """A person says whose form ticket this is.

    A ticket already sent to the desk for its requester is updated there (the customer's desk user
    becomes its requester, and it takes their tags) through one more outbound job; one that never
    went (written before unknown senders were answered) is sent now.
    """
    with transaction.atomic():
        locked = Ticket.objects.select_for_update(of=("self",)).select_related("sync_job").get(pk=ticket.pk)
        if locked.customer_id is not None:
            raise SupportError("This ticket already belongs to a customer.")
        if customer.merged_into_id:
            raise SupportError("That customer was merged into another; choose the one that was kept.")
        created_by, old_tags = locked.sync_job, list(locked.tags)
        locked.customer, locked.needs_match = customer, False
        locked.tags = customer_tags(locked, customer)
        locked.save(update_fields=["customer", "needs_match", "tags", "updated_at"])
        if created_by is None:
            requester = (
                {"name": locked.requester_name, "email": locked.requester_email}
                if locked.requester_email
                else None
            )
            job = desk_job(locked, customer, requester, cause=locked.idempotency_key)
        else:
            # The job that created it is the customer's now too: their page and the job log say so.
            # Only the customer column is written, so a worker running the job meanwhile is not disturbed.
            SyncJob.objects.filter(pk=created_by.pk, customer__isnull=True).update(customer=customer)
            job = desk_update_job(locked, customer, created_by=created_by, old_tags=old_tags)
        audit_record(
            action="support.ticket_link",
            source=source,
            actor=actor,
            customer=customer,
            target=locked,
            summary=f"Form ticket linked to {customer.public_id}"
            + (" and the desk told" if created_by is not None else ""),
            changes={"tags": [old_tags, locked.tags], "desk_job": job.pk},
        )
        jobs_enqueue_on_commit(job_ids=[job.pk])
    return locked
