from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from billing.consumers import billing_consumer_register
        from support.models import Ticket
        from support.services import ticket_confirm, tickets_for_billing_change
        from sync.hooks import success_hook_register
        from sync.rules import TICKET_ACTION

        auditlog.register(Ticket)
        billing_consumer_register(name="support.tickets", consumer=tickets_for_billing_change)
        # The desk created the ticket: our copy leaves "pending".
        success_hook_register(action=TICKET_ACTION, name="support.ticket_confirm", hook=ticket_confirm)
