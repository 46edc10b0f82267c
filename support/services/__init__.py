"""Support tickets: opened from billing facts, by staff and by the public form; routed by rules.

``planning`` writes every ticket with the job that creates it in the desk (and plans the ticket a billing
change opens); ``tickets`` is what people open; ``desk`` applies what the desk tells us; ``routing`` edits
the routing rules; ``changes`` carries a person's change of a
ticket to the desk.
"""

from support.errors import SupportError
from support.services.changes import desk_groups, ticket_change, ticket_change_sent
from support.services.desk import DESK_STATUSES, desk_delivery_apply, ticket_confirm
from support.services.planning import billing_states, tickets_for_billing_change
from support.services.routing import routing_rule_current, routing_rule_edit
from support.services.tickets import customer_for_email, ticket_link, ticket_open, ticket_submit

__all__ = [
    "DESK_STATUSES", "SupportError", "desk_groups", "ticket_change", "ticket_change_sent", "billing_states", "customer_for_email", "desk_delivery_apply",
    "routing_rule_current", "routing_rule_edit", "ticket_confirm", "ticket_link", "ticket_open",
    "ticket_submit", "tickets_for_billing_change",
]
