from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from audit.selectors import register_customer_filter
        from customers import queue_items  # registers with the queue: importable once models are loaded
        from customers.models import Customer, CustomerMerge, DistinctPair, ExternalLink
        from customers.visibility import visible_through_customer

        auditlog.register(Customer, exclude_fields=["identity_evidence"])  # email and name carry it
        auditlog.register(ExternalLink)
        auditlog.register(CustomerMerge)
        auditlog.register(DistinctPair)
        queue_items.register()
        register_customer_filter(visible_through_customer)  # the audit trail follows who may see a customer
