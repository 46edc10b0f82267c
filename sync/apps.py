from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from sync.models import MappingRule, SyncJob, SystemState

        auditlog.register(SyncJob, exclude_fields=["lease_expires_at", "lease_owner", "updated_at"])
        auditlog.register(SystemState)
        auditlog.register(MappingRule)
