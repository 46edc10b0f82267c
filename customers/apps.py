from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from customers.models import ActionItemState, Customer, CustomerMerge, DistinctPair, ExternalLink

        auditlog.register(Customer, exclude_fields=["identity_evidence"])  # email and name carry it
        auditlog.register(ExternalLink)
        auditlog.register(ActionItemState, exclude_fields=["updated_at"])
        auditlog.register(CustomerMerge)
        auditlog.register(DistinctPair)
