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
    """One fact an alert rule found (a system down, these jobs dead): a message when it opens, one
    when new facts join it, one when it resolves.

    ``key`` says which instance of the rule (a system, a process; empty for rules that have one).
    ``facts`` are what is true now (dead job ids, drift ids, or the key itself); ``told`` the
    facts a message has named, so a fact is announced once and a new one never goes unsaid.
    """

    rule = models.CharField(max_length=60)
    key = models.CharField(max_length=60, blank=True)
    summary = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True, help_text="Path of the screen that fixes it")
    facts = models.JSONField(default=list, blank=True)
    told = models.JSONField(default=list, blank=True)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    reopened = models.PositiveIntegerField(default=0, help_text="Times it came back within the quiet period")
    notified_open = models.BooleanField(default=False)
    news = models.BooleanField(default=False, help_text="Facts joined since the last message")
    notified_resolved = models.BooleanField(default=False)
    # Whoever sets this (a conditional UPDATE) sends the next message; it lapses if that process dies.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The channels that already took the message being sent (emptied once it is recorded as sent):
    # when one channel refuses, the retry goes to that channel only.
    sent_on = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # at most one open incident per rule and key: two evaluators cannot both open one
            models.UniqueConstraint(
                fields=["rule", "key"], condition=models.Q(resolved_at__isnull=True), name="incident_one_open_per_key"
            ),
        ]
        indexes = [models.Index(fields=["rule", "key", "-opened_at"], name="incident_rule_key_idx")]
        permissions = [("view_health", "Can see the system health screen")]

    def __str__(self) -> str:
        return f"{self.rule}{f' {self.key}' if self.key else ''}: {self.summary}"
