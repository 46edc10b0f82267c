from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"

    def ready(self) -> None:
        from auditlog.registry import auditlog

        from billing.consumers import billing_consumer_register
        from sync.models import MappingRule, SyncJob, SystemState
        from sync.services.outbox import jobs_for_billing_change

        auditlog.register(SyncJob, exclude_fields=["lease_expires_at", "lease_owner", "updated_at"])
        auditlog.register(SystemState)
        auditlog.register(MappingRule)
        billing_consumer_register(name="sync.jobs", consumer=jobs_for_billing_change)
