import hashlib
import json

from django.conf import settings
from django.db import models


class Source(models.TextChoices):
    UI = "ui", "Web UI"
    WEBHOOK = "webhook", "Webhook"
    WORKER = "worker", "Worker"
    COMMAND = "command", "Command"


class AuditImmutableError(Exception):
    """Audit entries are written once and never changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditImmutableError("Audit entries cannot be changed.")

    def delete(self):
        raise AuditImmutableError("Audit entries cannot be deleted.")


class AuditEvent(models.Model):
    """A business action on the record (refunds, retries, pauses, overrides, roles...).

    Append-only: each row carries the hash of the previous one, so editing or
    deleting a row in the table breaks the chain (``manage.py verify_audit``).
    """

    created_at = models.DateTimeField()
    # The ids are part of the hash: deleting a person or customer must not rewrite them
    # (SET_NULL would), so the columns keep the id without a database constraint.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=60)
    source = models.CharField(max_length=10, choices=Source.choices)
    correlation_id = models.CharField(max_length=64, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="audit_events",
    )
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=100, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            # the audit screen: by action / actor / customer, newest first
            models.Index(fields=["action", "-id"], name="audit_action_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            models.Index(fields=["customer", "-id"], name="audit_customer_idx"),
        ]
        permissions = [
            ("export", "Can export data and the audit trail"),
            ("view_all_audit", "Can see every audit entry"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or 'system'}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AuditImmutableError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditImmutableError("Audit entries cannot be deleted.")

    def compute_hash(self) -> str:
        body = {
            "prev": self.prev_hash,
            "created_at": self.created_at.isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "source": self.source,
            "correlation_id": self.correlation_id,
            "customer": self.customer_id,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "summary": self.summary,
            "changes": self.changes,
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()
