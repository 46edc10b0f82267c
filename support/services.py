"""Support tickets: opened from billing facts, by staff and by the public form; routed by rules.

Every ticket is written here first (status ``pending``) together with the
outbound job that creates it in the desk, in one transaction. The job's
success, or the desk's webhook, moves our copy on.
"""

from datetime import datetime

import structlog
from django.db import IntegrityError, transaction
from django.db.models import Q

from audit.context import current_correlation_id, log_hash
from audit.models import Source
from audit.services import audit_record
from billing.consumers import BillingChange
from billing.models import Dispute
from core.money import format_money
from customers.links import customer_360_url
from customers.models import Customer, CustomerStatus, System
from support.models import (
    DeskDelivery,
    RoutingRule,
    Ticket,
    TicketCategory,
    TicketPriority,
    TicketSource,
    TicketStatus,
)
from support.rules import DEFAULT_ROUTING, billing_fact_ticket, higher, route, routing_problems, slug
from sync.models import JobStatus, SyncJob
from sync.providers.sandbox import ID_PREFIX
from sync.rules import TICKET_ACTION, ticket_asked
from sync.services.outbox import idempotency_key, jobs_enqueue_on_commit
from sync.services.rules import mapping_rules_current

log = structlog.get_logger(__name__)

OPEN_DISPUTE_STATUSES = ["warning_needs_response", "needs_response", "warning_under_review", "under_review"]
# Zendesk's ticket statuses -> ours ("pending" there means waiting for the customer).
DESK_STATUSES = {
    "new": TicketStatus.NEW,
    "open": TicketStatus.OPEN,
    "pending": TicketStatus.WAITING,
    "hold": TicketStatus.HOLD,
    "solved": TicketStatus.SOLVED,
    "closed": TicketStatus.CLOSED,
}


class SupportError(Exception):
    """A support action that cannot be done, with a sentence a person can read."""


# --- routing rules ------------------------------------------------------------------------


def routing_rule_current() -> RoutingRule:
    """The newest version; the built-in defaults (unsaved, no version) when none is stored."""
    return RoutingRule.objects.order_by("-version").first() or RoutingRule(
        version=None, rules=DEFAULT_ROUTING
    )


def routing_rule_edit(*, rules: dict, actor, note: str = "", source: str = Source.UI) -> RoutingRule:
    """Save ``rules`` as the next version; earlier versions stay as they were."""
    problems = routing_problems(rules)
    if problems:
        raise SupportError(" ".join(problems))
    try:
        with transaction.atomic():
            previous = RoutingRule.objects.select_for_update().order_by("-version").first()
            rule = RoutingRule.objects.create(
                version=(previous.version + 1) if previous else 1,
                rules=rules,
                note=note[:300],
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            audit_record(
                action="support.routing_rule_edit",
                source=source,
                actor=actor,
                target=rule,
                summary=f"Support routing rules changed to version {rule.version}",
                changes={
                    "before": previous.rules if previous else DEFAULT_ROUTING,
                    "after": rules,
                    "version": rule.version,
                },
            )
    except IntegrityError as exc:  # two editors saved at once (SQLite has no row lock)
        raise SupportError(
            "Someone else changed these rules at the same moment; reload and try again."
        ) from exc
    return rule


# --- what a ticket carries ------------------------------------------------------------------


def billing_states(customer: Customer | None) -> set[str]:
    """The billing-state tags that apply to this customer right now."""
    if customer is None:
        return {"unknown-customer"}
    states = {customer.effective_status.replace("_", "-")}
    if customer.status in (CustomerStatus.ACTIVE, CustomerStatus.PAST_DUE) and customer.mrr > 0:
        states.add("paying")
    if Dispute.objects.filter(customer=customer, status__in=OPEN_DISPUTE_STATUSES).exists():
        states.add("dispute-open")
    if (
        customer.effective_status == CustomerStatus.ACTIVE
        and SyncJob.objects.filter(
            customer=customer,
            system=System.COMMUNITY,
            action="grant_access",
            status__in=[JobStatus.PENDING, JobStatus.RUNNING, JobStatus.RETRYING, JobStatus.DEAD],
        ).exists()
    ):
        states.add("just-paid-no-access")
    return states


def _desk_body(text: str, customer: Customer | None) -> str:
    if customer is None:
        return text
    facts = (
        f"Switchboard customer: {customer.public_id}\n"
        f"Plan: {customer.plan or '-'} · Status: {customer.effective_status} · "
        f"MRR: {format_money(customer.mrr, customer.currency)}\n"
        f"Customer 360: {customer_360_url(customer.public_id)}"
    )
    return f"{text}\n\n--\n{facts}" if text else facts


def _tags(
    *, customer: Customer | None, states: set[str], source: str, category: str, extra: list[str]
) -> list[str]:
    tags = {"switchboard", f"source-{source}", *states, *extra}
    if category:
        tags.add(f"category-{category}")
    if customer is not None and customer.plan:
        tags.add("plan-" + slug(customer.plan))
    return sorted(slug(t) for t in tags if t)


# --- opening tickets (one path) ---------------------------------------------------------------


def _ticket_write(
    *,
    key: str,
    customer: Customer | None,
    subject: str,
    category: str,
    priority: str | None,
    text: str,
    source: str,
    fact: str = "",
    extra_tags: list[str] | None = None,
    source_event=None,
    opened_by=None,
    requester: dict | None = None,
    sync_rule_version: int | None = None,
    job_cause: str = "",
    plan_hint: str = "",
) -> tuple[Ticket, SyncJob | None, bool]:
    """Write the ticket and the job that creates it in the desk, inside the caller's transaction.

    ``priority`` None lets the routing rules decide; otherwise the higher of the two wins
    for billing facts, and a person's choice stands as given. Returns (ticket, new job, created).
    """
    existing = Ticket.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, None, False
    rules = routing_rule_current()
    states = billing_states(customer)
    routed = route(rules.rules, category=category, plan=customer.plan if customer else plan_hint, states=states)
    if priority is None:
        final_priority = routed.priority
    elif source == TicketSource.STAFF:
        final_priority = priority
    else:
        final_priority = higher(priority, routed.priority)
    tags = _tags(
        customer=customer,
        states=states,
        source=source,
        category=category,
        extra=[*(extra_tags or []), *routed.tags],
    )
    ticket = Ticket.objects.create(
        customer=customer,
        idempotency_key=key,
        subject=subject[:200],
        category=category,
        priority=final_priority,
        tags=tags,
        source=source,
        group=routed.group[:100],
        fact=fact[:100],
        message=text,
        requester_name=(requester or {}).get("name", "")[:200],
        requester_email=(requester or {}).get("email", ""),
        needs_match=customer is None,
        routing_version=rules.version,
        source_event=source_event,
        opened_by=opened_by,
    )
    job = None
    if customer is not None:
        job = _desk_job(
            ticket,
            customer,
            requester,
            cause=job_cause or key,
            source_event=source_event,
            rule_version=sync_rule_version,
        )
    return ticket, job, True


def _desk_job(
    ticket: Ticket,
    customer: Customer,
    requester: dict | None,
    *,
    cause: str,
    source_event=None,
    rule_version: int | None = None,
) -> SyncJob:
    """The outbound job that creates ``ticket`` in the desk; the ticket points at it."""
    job = SyncJob.objects.create(
        customer=customer,
        system=System.SUPPORT,
        action=TICKET_ACTION,
        idempotency_key=idempotency_key(
            cause=cause, customer=customer, system=System.SUPPORT, action=TICKET_ACTION
        ),
        payload=_job_payload(ticket, customer, requester),
        source_event=source_event,
        rule_version=rule_version,
        correlation_id=current_correlation_id(),
    )
    ticket.sync_job = job
    ticket.save(update_fields=["sync_job", "updated_at"])
    return job


def _job_payload(ticket: Ticket, customer: Customer, requester: dict | None) -> dict:
    payload = {
        "ticket_id": ticket.pk,
        "subject": ticket.subject,
        "body": _desk_body(ticket.message, customer),
        "priority": ticket.priority,
        "tags": ticket.tags,
        "group": ticket.group,
        "category": ticket.category,
        "status": customer.effective_status,
        "plan": customer.plan,
        "mrr": customer.mrr,
        "currency": customer.currency,
        "customer_url": customer_360_url(customer.public_id),
    }
    if ticket.fact:
        payload["event_type"] = ticket.fact
    if requester:
        payload["requester"] = {
            "name": requester.get("name") or requester["email"],
            "email": requester["email"],
        }
    return payload


def tickets_for_billing_change(*, change: BillingChange) -> list[SyncJob]:
    """The ticket one applied Stripe event opens, if any: at most one per event, however often it comes.

    Registered with billing as a consumer of billing changes (``SupportConfig.ready``), so it
    runs inside the event's transaction. The routing rules' billing facts decide first; a
    ticket the support mapping rules ask for on a status change is the fallback. Schedules
    the new desk job after commit and returns it.
    """
    spec, fact = billing_fact_ticket(routing_rule_current().rules, change.event_type), change.event_type
    if spec is None and change.before.get("status") == change.after.get("status"):
        return []  # no billing fact to tell, and status tickets come only with a new status
    mapping = mapping_rules_current()[System.SUPPORT]
    if spec is None:
        spec = ticket_asked(mapping.rules, before=change.before, after=change.after)
        if spec is None:
            return []
        fact = f"status:{spec.get('status') or ''}"
    event = change.source_event
    ticket, job, created = _ticket_write(
        key=f"stripe:{event.stripe_id}",
        job_cause=event.stripe_id,  # the key the outbox gives every job of this event
        customer=change.customer,
        subject=spec.get("subject") or "Billing",
        category=spec.get("category", "billing"),
        priority=spec.get("priority", TicketPriority.NORMAL),
        text=spec.get("body", ""),
        source=TicketSource.BILLING,
        fact=fact,
        extra_tags=list(spec.get("tags") or []),
        source_event=event,
        sync_rule_version=mapping.version,
    )
    # No business-action record: nobody acted. The ticket names its Stripe event, like the other jobs.
    if not (created and job is not None):
        return []
    jobs_enqueue_on_commit(job_ids=[job.pk])
    return [job]


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
        ticket, job, created = _ticket_write(
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
    subject = f"{topic}: {message.strip().splitlines()[0][:80]}"
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
        ticket, job, created = _ticket_write(
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
    """A person says whose form ticket this is; only then is it sent to the desk."""
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if locked.customer_id is not None:
            raise SupportError("This ticket already belongs to a customer.")
        if customer.merged_into_id:
            raise SupportError("That customer was merged into another; choose the one that was kept.")
        locked.customer, locked.needs_match = customer, False
        locked.save(update_fields=["customer", "needs_match", "updated_at"])
        requester = (
            {"name": locked.requester_name, "email": locked.requester_email}
            if locked.requester_email
            else None
        )
        job = _desk_job(locked, customer, requester, cause=locked.idempotency_key)
        audit_record(
            action="support.ticket_link",
            source=source,
            actor=actor,
            customer=customer,
            target=locked,
            summary=f"Form ticket linked to {customer.public_id}",
        )
        jobs_enqueue_on_commit(job_ids=[job.pk])
    return locked


# --- what the desk tells us ---------------------------------------------------------------------


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
