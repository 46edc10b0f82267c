from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.versioned import VersionedRules
from customers.models import System
from sync.providers.errors import ReasonCode  # adapters raise it; jobs keep it


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    DEAD = "dead", "Dead"
    # Dead, and a person decided it will not be fixed (with a note): out of the alerts and the queue.
    SET_ASIDE = "set_aside", "Set aside"


# Work that will still run (waiting for its time or a worker, or running now); the rest is finished.
WAITING_JOB_STATUSES = (JobStatus.PENDING, JobStatus.RETRYING)
OPEN_JOB_STATUSES = (JobStatus.PENDING, JobStatus.RUNNING, JobStatus.RETRYING)


class SyncJobQuerySet(models.QuerySet):
    def dead(self) -> "SyncJobQuerySet":
        return self.filter(status=JobStatus.DEAD)

    def open(self) -> "SyncJobQuerySet":
        """Not finished: waiting or running."""
        return self.filter(status__in=OPEN_JOB_STATUSES)

    def open_or_dead(self) -> "SyncJobQuerySet":
        """Not delivered (yet): open, or given up and waiting for a person."""
        return self.filter(status__in=[*OPEN_JOB_STATUSES, JobStatus.DEAD])

    def waiting(self) -> "SyncJobQuerySet":
        """Open and not running: each waits for its ``next_attempt_at`` or a worker."""
        return self.filter(status__in=WAITING_JOB_STATUSES)

    def due(self, now=None) -> "SyncJobQuerySet":
        return self.waiting().filter(next_attempt_at__lte=now or timezone.now())

    def lease_expired(self, now=None) -> "SyncJobQuerySet":
        now = now or timezone.now()
        return self.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now)


class SyncJob(models.Model):
    """One piece of outbound work: the transactional outbox. The row is the record, Redis only wakes a worker."""

    # None: a desk ticket for someone who is not (yet) a customer; the job's payload names the requester.
    # Read by customer through job_customer_system_idx (customer first): no index of its own.
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="sync_jobs",
        db_index=False,
    )
    system = models.CharField(max_length=20, choices=[c for c in System.choices if c[0] != System.STRIPE])
    action = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    reason_code = models.CharField(max_length=30, choices=ReasonCode.choices, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    source_event = models.ForeignKey(
        "billing.StripeEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="sync_jobs"
    )
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    # When a wake-up was last published: the sweeper re-publishes only stale ones.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The tool's rate-limit slot this job has reserved (its tokens are taken): from then, for one
    # rate-limit window, it runs without asking the bucket again. Cleared when a worker claims it.
    rate_slot_at = models.DateTimeField(null=True, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    # assigned_to, set_aside_by and replay_of are set on few jobs: each has a partial index of the jobs
    # that carry one (Meta), not an index that every job's every write also writes.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    set_aside_note = models.CharField(max_length=300, blank=True)
    set_aside_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )
    set_aside_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Succeeded in sandbox: the tool had no credentials, so nothing reached it.
    # db_default too: rows written without naming the column (bulk loads, COPY) are real ones.
    simulated = models.BooleanField(default=False, db_default=False)
    # On a simulated job: when a replay settled it (sent it for real, or found a later job that did).
    replayed_at = models.DateTimeField(null=True, blank=True)
    # On a job that sends a simulated one to the real tool: that simulated job.
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays", db_index=False
    )

    objects = SyncJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the sweeper: due and lease-expired jobs
            models.Index(fields=["status", "next_attempt_at"], name="job_status_next_idx"),
            # the job log and the action queue: by system and status, newest first
            models.Index(fields=["system", "status", "-created_at"], name="job_system_status_idx"),
            # the job log filtered by status, newest first by id (its keyset order), and the per-system
            # counts of unfinished jobs, which never read the succeeded ones
            models.Index(fields=["status", "-id"], name="job_status_id_idx"),
            # the action queue: each system's dead jobs, most recently failed first; updated_at last
            # so counting the unresolved ones (resolved before the job last changed) reads only the index
            models.Index(
                F("system"), Coalesce("finished_at", "updated_at").desc(), F("id").desc(), F("updated_at"),
                name="job_dead_queue_idx", condition=Q(status=JobStatus.DEAD),
            ),
            # the action queue's paying customers without community access: the grants that died or
            # still retry, newest first, with what counting the unresolved ones reads
            models.Index(
                F("created_at").desc(), F("id").desc(), F("updated_at"), F("customer"),
                name="job_access_open_idx",
                condition=Q(system=System.COMMUNITY, action="grant_access",
                            status__in=[JobStatus.DEAD, JobStatus.RETRYING]),
            ),
            # a customer's per-system sync state
            models.Index(fields=["customer", "system", "-created_at"], name="job_customer_system_idx"),
            # the simulated jobs of a system not yet sent for real: the systems page counts them, a replay plans them
            models.Index(
                fields=["system", "id"], name="job_simulated_waiting_idx",
                condition=Q(simulated=True, replayed_at__isnull=True),
            ),
            # the foreign keys few jobs carry: only those jobs are in their index
            *(models.Index(fields=[name], name=f"job_{name}_idx", condition=Q(**{f"{name}__isnull": False}))
              for name in ("assigned_to", "set_aside_by", "replay_of")),
        ]
        permissions = [
            ("retry_job", "Can retry any outbound job"),
            ("retry_billing_sync", "Can retry CRM, community and email jobs"),
            ("retry_support_sync", "Can retry support desk jobs"),
            ("pause_system", "Can pause and resume automation"),
            ("edit_mapping", "Can edit mapping rules"),
            ("replay_simulated", "Can send simulated jobs to the real tool"),
        ]

    def __str__(self) -> str:
        return f"{self.system}.{self.action} #{self.pk}"

    def requester_hint(self) -> str:
        """Who a job without a customer is for, obscured for screens and logs: ``j…@example.com``."""
        requester = (self.payload or {}).get("requester") or {}
        email = str(requester.get("email") or "")
        local, _, domain = email.partition("@")
        if not domain:
            return "an unknown sender"
        return f"{local[:1]}…@{domain}"

    def display_status(self, states: dict | None = None) -> str:
        """The status a person sees: open work of a paused or held system shows as ``paused``."""
        if self.status in WAITING_JOB_STATUSES and states:
            state = states.get(self.system)
            if state is not None and (state.paused or state.held):
                return "paused"
        return self.status


class SyncAttempt(models.Model):
    """What one try of a job did: kept for the job's detail page and the metrics."""

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20)  # ok / transient / permanent
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=100, blank=True)
    message = models.CharField(max_length=500, blank=True)
    request_summary = models.JSONField(default=dict, blank=True)
    response_summary = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["job", "number"]
        indexes = [
            # the job failure-rate alert: every attempt of the last few minutes
            models.Index(fields=["started_at"], name="attempt_started_idx"),
        ]

    @property
    def why(self) -> str:
        """What went wrong, as a person reads it: the message, which already names the reason
        ("hubspot answered 422: rejected as invalid"); without one, the reason's name."""
        if self.message or not self.error_class:
            return self.message
        if self.error_class in ReasonCode.values:
            return ReasonCode(self.error_class).label
        return self.error_class


class SystemState(models.Model):
    """Pause switch and circuit breaker of one outside system (``all`` pauses every system)."""

    ALL = "all"

    system = models.CharField(max_length=20, unique=True)
    paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=300, blank=True)
    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    breaker_open_until = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_failure_reason = models.CharField(max_length=30, blank=True)
    # The first failure of the current run of system-wide failures (cleared when it answers):
    # how long the system has been down, for the alert.
    failing_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system"]

    def __str__(self) -> str:
        return self.system


class MappingRule(VersionedRules):
    """One version of what billing facts cause in one system (the version's scope)."""

    system = models.CharField(max_length=20, choices=[c for c in System.choices if c[0] != System.STRIPE])

    class Meta:
        ordering = ["system", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["system", "version"], name="mapping_rule_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.system} rules v{self.version}"


class RateBucket(models.Model):
    """Token bucket of one provider credential, used when there is no Redis (embedded mode)."""

    key = models.CharField(max_length=100, unique=True)
    tokens = models.FloatField()
    refilled_at = models.FloatField(help_text="Unix time of the last refill")

    def __str__(self) -> str:
        return self.key


class DriftKind(models.TextChoices):
    MISSING = "missing", "Missing in the tool"
    ACCESS_EXTRA = "access_extra", "Access that should not be there"
    ACCESS_MISSING = "access_missing", "Access that should be there"
    WRONG_VALUE = "wrong_value", "Wrong tag or field"
    IDENTITY_MISMATCH = "identity_mismatch", "Identity mismatch"
    ORPHAN = "orphan", "Orphan record"


class DriftResolution(models.TextChoices):
    REPAIRED = "repaired", "Repair sent"  # outbox jobs written; the next pass confirms
    GONE = "gone", "No longer found"  # a later pass found the tool agreeing again
    IGNORED = "ignored", "Ignored with a note"
    REVIEW = "review", "Kept for review"  # the tool's value accepted as a question, never copied into billing


class ToolDrift(models.Model):
    """One difference between an outside tool and what billing truth and the mapping rules say it
    should hold. Open while ``resolved_at`` is empty; found again by a later pass, it stays one row."""

    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="tool_drifts"
    )  # empty for an orphan: the tool's record names no customer we have
    system = models.CharField(max_length=20, choices=[c for c in System.choices if c[0] != System.STRIPE])
    kind = models.CharField(max_length=20, choices=DriftKind.choices)
    field = models.CharField(max_length=40, blank=True)
    expected = models.CharField(max_length=300, blank=True)
    actual = models.CharField(max_length=300, blank=True)
    external_id = models.CharField(max_length=255, blank=True)  # the tool's record, where it has one
    found_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)  # the last pass that found it
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=20, choices=DriftResolution.choices, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            # one open row per difference: a second pass finds the same row again
            models.UniqueConstraint(
                fields=["system", "kind", "field", "customer", "external_id"], name="drift_unique_open",
                condition=Q(resolved_at__isnull=True),
            ),
        ]
        indexes = [
            # the queue and the health screen: open differences per system and kind, newest first
            models.Index(fields=["system", "kind", "-found_at"], name="drift_open_idx",
                         condition=Q(resolved_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.system} {self.kind} {self.field}".strip()


class DriftPass(models.Model):
    """One reconcile pass over one system: its cursor (the last customer finished) lets an
    interrupted pass resume without reading again what it finished."""

    system = models.CharField(max_length=20, choices=[c for c in System.choices if c[0] != System.STRIPE])
    provider = models.CharField(max_length=30, blank=True)
    scope = models.CharField(max_length=40, blank=True)  # one customer's public id, or "" for everyone
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    cursor = models.BigIntegerField(default=0)
    listing_after = models.CharField(max_length=200, blank=True)  # the tool's page cursor, finding orphans
    checked = models.PositiveIntegerField(default=0)
    found = models.PositiveIntegerField(default=0)
    reads = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # the health screen and a resuming pass: each system's newest pass
            models.Index(fields=["system", "-started_at"], name="driftpass_system_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.system} pass #{self.pk}"
