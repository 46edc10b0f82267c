from django.db.models import QuerySet

from core.versioned import version_history
from customers.models import Customer, System
from customers.visibility import customers_visible_to
from support.models import RoutingRule, Ticket, TicketChange
from sync.providers import configured_provider
from sync.providers.sandbox import ID_PREFIX


def routing_rule_history() -> QuerySet[RoutingRule]:
    return version_history(RoutingRule)[:20]


def link_candidates(*, ticket: Ticket, user) -> list[Customer]:
    """Customers with the email the person typed (none or several, or the ticket would be linked)."""
    if ticket.customer_id is not None or not ticket.requester_email:
        return []
    return list(customers_visible_to(user=user).live().filter(email__iexact=ticket.requester_email)[:10])


def desk_ticket_url(ticket: Ticket) -> str:
    """Where a person opens ``ticket`` in the desk: "" before the desk confirmed it, in sandbox, or when
    the desk's tool gives tickets no address Switchboard knows."""
    if not ticket.external_id or ticket.external_id.startswith(ID_PREFIX):
        return ""
    url_for = getattr(configured_provider(System.SUPPORT), "ticket_url", None)
    return url_for(ticket.external_id) if url_for else ""


def ticket_changes(ticket: Ticket) -> list[TicketChange]:
    """The changes people asked of ``ticket``, newest first, with the job that carries each."""
    return list(ticket.changes.select_related("actor", "sync_job")[:50])
