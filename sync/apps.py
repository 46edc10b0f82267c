from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        # sync registers with the apps below it (the queue, customers) once its models are loaded
        from customers import hooks
        from sync import queue_items, selectors
        from sync.models import MappingRule, SyncJob, SystemState

        auditlog.register(SyncJob, exclude_fields=["lease_expires_at", "lease_owner", "updated_at"])
        auditlog.register(SystemState)
        auditlog.register(MappingRule)
        queue_items.register()
        hooks.register_sync_state(flags=selectors.customer_job_flags, per_system=selectors.customer_sync_state)
        hooks.register_merge_rows(SyncJob)
