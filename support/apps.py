from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "support"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        # support registers with the apps below it (the queue, customers) once its models are loaded
        from customers import hooks
        from support import queue_items
        from support.models import Ticket

        auditlog.register(Ticket)
        queue_items.register()
        hooks.register_merge_rows(Ticket)
