"""Writing a ticket, and the ticket a billing change opens.

Every ticket is written first (status ``pending``) together with the outbound job that creates it in the
desk, in one transaction; the routing rules decide its priority, tags and group.
"""

from audit.context import current_correlation_id
from billing.consumers import BillingChange
from billing.models import Dispute
from core.batch import batch_read
from core.money import format_money
from customers.links import customer_360_url
from customers.models import Customer, CustomerStatus, System
from support.models import Ticket, TicketPriority, TicketSource
from support.rules import billing_fact_ticket, higher, route, slug
from support.services.routing import routing_rule_current
from sync.models import SyncJob
from sync.rules import TICKET_ACTION, ticket_asked
from sync.services.outbox import idempotency_key, jobs_enqueue_on_commit
from sync.services.rules import mapping_rules_current

# Tells the desk that a ticket opened for someone who was not a customer is now a customer's.
TICKET_UPDATE_ACTION = "update_ticket"

# --- what a ticket carries ------------------------------------------------------------------


def billing_states(customer: Customer | None) -> set[str]:
    """The billing-state tags that apply to this customer right now."""
    if customer is None:
        return {"unknown-customer"}
    states = {customer.effective_status.replace("_", "-")}
    if customer.status in (CustomerStatus.ACTIVE, CustomerStatus.PAST_DUE) and customer.mrr > 0:
        states.add("paying")
    if Dispute.objects.open().filter(customer=customer).exists():
        states.add("dispute-open")
    if (
        customer.effective_status == CustomerStatus.ACTIVE
        and SyncJob.objects.open_or_dead()
        .filter(customer=customer, system=System.COMMUNITY, action="grant_access")
        .exists()
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


# --- writing a ticket and its desk job (the one path every ticket takes) ----------------------


def ticket_write(
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
    rules = batch_read("support.routing_rule", routing_rule_current)
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
    # Someone who is not a customer yet is answered at once: the desk gets the ticket under their email.
    if customer is not None or (requester or {}).get("email"):
        job = desk_job(
            ticket,
            customer,
            requester,
            cause=job_cause or key,
            source_event=source_event,
            rule_version=sync_rule_version,
        )
    return ticket, job, True


def desk_job(
    ticket: Ticket,
    customer: Customer | None,
    requester: dict | None,
    *,
    cause: str,
    source_event=None,
    rule_version: int | None = None,
) -> SyncJob:
    """The outbound job that creates ``ticket`` in the desk; the ticket points at it.
    Without a customer the job belongs to the ticket (its key too) and speaks for the requester."""
    job = SyncJob.objects.create(
        customer=customer,
        system=System.SUPPORT,
        action=TICKET_ACTION,
        idempotency_key=idempotency_key(
            cause=cause, customer=customer, system=System.SUPPORT, action=TICKET_ACTION, ticket_id=ticket.pk
        ),
        payload=_job_payload(ticket, customer, requester),
        source_event=source_event,
        rule_version=rule_version,
        correlation_id=current_correlation_id(),
    )
    ticket.sync_job = job
    ticket.save(update_fields=["sync_job", "updated_at"])
    return job


def _job_payload(ticket: Ticket, customer: Customer | None, requester: dict | None) -> dict:
    payload = {
        "ticket_id": ticket.pk,
        "subject": ticket.subject,
        "body": _desk_body(ticket.message, customer),
        "priority": ticket.priority,
        "tags": ticket.tags,
        "group": ticket.group,
        "category": ticket.category,
    }
    if customer is not None:
        payload.update(
            status=customer.effective_status, plan=customer.plan, mrr=customer.mrr, currency=customer.currency,
            customer_url=customer_360_url(customer.public_id),
        )
    if ticket.fact:
        payload["event_type"] = ticket.fact
    if requester:
        payload["requester"] = {
            "name": requester.get("name") or requester["email"],
            "email": requester["email"],
        }
    return payload


def customer_tags(ticket: Ticket, customer: Customer) -> list[str]:
    """The tags ``ticket`` carries once it is ``customer``'s: their billing states and plan, and the
    routing rules' tags for them (what a ticket opened on them would have had)."""
    states = billing_states(customer)
    routed = route(routing_rule_current().rules, category=ticket.category, plan=customer.plan, states=states)
    return _tags(customer=customer, states=states, source=ticket.source, category=ticket.category,
                 extra=routed.tags)


def desk_update_job(ticket: Ticket, customer: Customer, *, created_by: SyncJob, old_tags: list[str]) -> SyncJob:
    """The outbound job that tells the desk ``ticket`` (created by ``created_by`` for a requester who was
    not a customer) is ``customer``'s: their desk user becomes its requester and it takes their tags.
    The desk's ticket id may not be known yet: the job carries the key the desk knows the ticket by."""
    desk_id = ticket.external_id or created_by.external_id
    return SyncJob.objects.create(
        customer=customer,
        system=System.SUPPORT,
        action=TICKET_UPDATE_ACTION,
        idempotency_key=idempotency_key(
            cause=f"link:{ticket.pk}", customer=customer, system=System.SUPPORT, action=TICKET_UPDATE_ACTION
        ),
        payload={
            "ticket_id": ticket.pk,
            "desk_ticket_key": created_by.idempotency_key,
            "desk_job_id": created_by.pk,  # the desk's id is read from it (or its replay) when the job runs
            "desk_ticket_id": desk_id,
            "tags": ticket.tags,
            "remove_tags": sorted(set(old_tags) - set(ticket.tags)),
        },
        correlation_id=current_correlation_id(),
    )


def tickets_for_billing_change(*, change: BillingChange) -> list[SyncJob]:
    """The ticket one applied Stripe event opens, if any: at most one per event, however often it comes.

    Registered with billing as a consumer of billing changes (``SupportConfig.ready``), so it
    runs inside the event's transaction. The routing rules' billing facts decide first; a
    ticket the support mapping rules ask for on a status change is the fallback. Schedules
    the new desk job after commit and returns it.
    """
    routing = batch_read("support.routing_rule", routing_rule_current)  # once per batch of events
    spec, fact = billing_fact_ticket(routing.rules, change.event_type), change.event_type
    if spec is None and change.before.get("status") == change.after.get("status"):
        return []  # no billing fact to tell, and status tickets come only with a new status
    mapping = batch_read("sync.mapping_rules", mapping_rules_current)[System.SUPPORT]
    if spec is None:
        spec = ticket_asked(mapping.rules, before=change.before, after=change.after)
        if spec is None:
            return []
        fact = f"status:{spec.get('status') or ''}"
    event = change.source_event
    ticket, job, created = ticket_write(
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
