from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"

    def ready(self) -> None:
        from audit import request_logging  # noqa: F401 - connects the request-line receivers as it loads
