from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from customers.models import Customer, ExternalLink

        auditlog.register(Customer)
        auditlog.register(ExternalLink)
