"""What support hands to the apps below it once its models are loaded: the ticket planner for billing's
changes, the hook that confirms a ticket the desk accepted, its queue kinds and the rows that move
with a merge."""

from auditlog.registry import auditlog

from billing.consumers import billing_consumer_register
from customers import hooks
from support import queue_items
from support.models import Ticket, TicketChange
from support.services import ticket_change_sent, ticket_confirm, tickets_for_billing_change
from support.services.planning import TICKET_UPDATE_ACTION
from sync.hooks import success_hook_register
from sync.rules import TICKET_ACTION


def register() -> None:
    auditlog.register(Ticket)
    billing_consumer_register(name="support.tickets", consumer=tickets_for_billing_change)
    # The desk created the ticket: our copy leaves "pending".
    success_hook_register(action=TICKET_ACTION, name="support.ticket_confirm", hook=ticket_confirm)
    # The desk accepted a person's change of a ticket: it is sent (or confirmed, when no status waits).
    success_hook_register(action=TICKET_UPDATE_ACTION, name="support.ticket_change_sent", hook=ticket_change_sent)
    auditlog.register(TicketChange)
    queue_items.register()
    hooks.register_merge_rows(Ticket)
