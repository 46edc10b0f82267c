from django.contrib import admin

from audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail cannot be edited or deleted through the admin."""

    list_display = ["created_at", "action", "actor_label", "source", "summary"]
    list_filter = ["action", "source"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# django-auditlog's own log: the same rule, whatever its default admin allows.
from auditlog.admin import LogEntryAdmin  # noqa: E402
from auditlog.models import LogEntry  # noqa: E402


class ReadOnlyLogEntryAdmin(LogEntryAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


if admin.site.is_registered(LogEntry):
    admin.site.unregister(LogEntry)
admin.site.register(LogEntry, ReadOnlyLogEntryAdmin)
