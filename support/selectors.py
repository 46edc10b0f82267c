from django.db.models import QuerySet

from core.versioned import version_history
from customers.models import Customer
from customers.visibility import customers_visible_to
from support.models import RoutingRule, Ticket


def routing_rule_history() -> QuerySet[RoutingRule]:
    return version_history(RoutingRule)[:20]


def link_candidates(*, ticket: Ticket, user) -> list[Customer]:
    """Customers with the email the person typed (none or several, or the ticket would be linked)."""
    if ticket.customer_id is not None or not ticket.requester_email:
        return []
    return list(customers_visible_to(user=user).live().filter(email__iexact=ticket.requester_email)[:10])
