"""What customers sets up once its models are loaded: the audit log of its models, its queue kinds,
and who may see a customer's entries in the audit trail."""

from auditlog.registry import auditlog

from audit.selectors import register_customer_filter
from customers import hooks, queue_items
from customers.models import Customer, CustomerMerge, CustomerNote, DistinctPair, ExternalLink
from customers.visibility import visible_through_customer


def register() -> None:
    auditlog.register(Customer, exclude_fields=["identity_evidence"])  # email and name carry it
    auditlog.register(ExternalLink)
    auditlog.register(CustomerMerge)
    auditlog.register(DistinctPair)
    queue_items.register()
    hooks.register_merge_rows(CustomerNote)  # notes follow the customer into a merge
    register_customer_filter(visible_through_customer)  # the audit trail follows who may see a customer
