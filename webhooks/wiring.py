"""What webhooks hands to the apps below it once its models are loaded: each endpoint as an outbox
system of its own, the producers of its facts (billing changes, tickets opened, merges)."""

from auditlog.registry import auditlog
from django.db.models.signals import post_save

from billing.consumers import billing_consumer_register
from customers.models import CustomerMerge
from support.models import Ticket
from sync.providers import system_family_register
from webhooks import alerts  # noqa: F401 - registers the switched-off endpoint's alert rule
from webhooks import queue_items
from webhooks.models import SYSTEM_PREFIX, Endpoint
from webhooks.producers import fact_for_merge, fact_for_ticket, facts_for_billing_change
from webhooks.tool import endpoint_tool


def register() -> None:
    auditlog.register(Endpoint, exclude_fields=["secret", "previous_secret", "updated_at", "failing_since"])
    system_family_register(prefix=SYSTEM_PREFIX, factory=endpoint_tool)
    billing_consumer_register(name="webhooks.facts", consumer=facts_for_billing_change)
    post_save.connect(fact_for_ticket, sender=Ticket, dispatch_uid="webhooks.ticket_opened")
    post_save.connect(fact_for_merge, sender=CustomerMerge, dispatch_uid="webhooks.customer_merged")
    queue_items.register()
