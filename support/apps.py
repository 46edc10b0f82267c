from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from support.models import Ticket

        auditlog.register(Ticket)
