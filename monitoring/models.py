from django.db import models


class Heartbeat(models.Model):
    """Last sign of life of a background process (the worker, the scheduler)."""

    WORKER = "worker"
    SCHEDULER = "scheduler"

    name = models.CharField(max_length=30, unique=True)
    beat_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%H:%M:%S}"


class Incident(models.Model):
    """An alert rule that fired: one message when it opens, one when it resolves."""

    rule = models.CharField(max_length=60)
    summary = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True, help_text="Path of the screen that fixes it")
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_open = models.BooleanField(default=False)
    notified_resolved = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # at most one open incident per rule
            models.UniqueConstraint(
                fields=["rule"], condition=models.Q(resolved_at__isnull=True), name="incident_one_open_per_rule"
            ),
        ]
        indexes = [models.Index(fields=["rule", "-opened_at"], name="incident_rule_idx")]
        permissions = [("view_health", "Can see the system health screen")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.summary}"


class DriftQuerySet(models.QuerySet):
    def open(self) -> "DriftQuerySet":
        return self.filter(resolved_at__isnull=True)


class Drift(models.Model):
    """A difference between Stripe and our mirrors, found by reconciliation."""

    class Kind(models.TextChoices):
        MISSING = "missing", "Missing locally"
        STATUS = "status", "Status differs"
        AMOUNT = "amount", "Amount differs"

    object_type = models.CharField(max_length=30)
    stripe_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    field = models.CharField(max_length=40, blank=True)
    ours = models.CharField(max_length=200, blank=True)
    stripes = models.CharField(max_length=200, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    found_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=200, blank=True)

    objects = DriftQuerySet.as_manager()

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            # one open finding per object and field; a new run updates it instead of adding rows
            models.UniqueConstraint(
                fields=["object_type", "stripe_id", "field"],
                condition=models.Q(resolved_at__isnull=True),
                name="drift_one_open_per_field",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.object_type} {self.stripe_id}: {self.get_kind_display()}"
