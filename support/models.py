from django.conf import settings
from django.db import models

from core.versioned import VersionedRules
from sync.models import JobStatus


class TicketSource(models.TextChoices):
    BILLING = "billing", "Billing fact"
    STAFF = "staff", "Staff"
    FORM = "form", "Support form"
    APP = "app", "Product app"


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class TicketStatus(models.TextChoices):
    # Ours: stored here, not yet confirmed by the desk.
    PENDING = "pending", "Not in the desk yet"
    # The desk's own statuses (Zendesk's "pending" is "waiting for the customer" here).
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting for customer"
    HOLD = "hold", "On hold"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


class TicketCategory(models.TextChoices):
    ACCESS = "access", "I paid but cannot get in"
    BILLING = "billing", "Billing and payments"
    ACCOUNT = "account", "My account"
    BUG = "bug", "Something is broken"
    QUESTION = "question", "A question"
    OTHER = "other", "Something else"


class Ticket(models.Model):
    """Our copy of a ticket in the support desk."""

    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    external_id = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=200)
    category = models.CharField(max_length=50, blank=True)
    priority = models.CharField(max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL)
    status = models.CharField(max_length=20, choices=TicketStatus.choices, default=TicketStatus.PENDING)
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=TicketSource.choices)
    # What the person wrote, kept here first so an unreachable desk loses nothing.
    requester_name = models.CharField(max_length=200, blank=True)
    requester_email = models.EmailField(blank=True)
    message = models.TextField(blank=True)
    group = models.CharField(max_length=100, blank=True)
    # The billing fact (Stripe event type) or the customer status that opened it.
    fact = models.CharField(max_length=100, blank=True)
    # A form ticket whose email matched no single customer: a person links it.
    needs_match = models.BooleanField(default=False)
    routing_version = models.PositiveIntegerField(null=True, blank=True)
    sync_job = models.OneToOneField(
        "sync.SyncJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket"
    )
    source_event = models.ForeignKey(
        "billing.StripeEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    desk_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_idx"),
            # the action queue: tickets still waiting for the desk (few rows)
            models.Index(
                fields=["created_at"], name="ticket_pending_idx", condition=models.Q(status="pending")
            ),
            # the desk's webhook finds our copy by the desk's id
            models.Index(fields=["external_id"], name="ticket_external_id_idx"),
        ]
        permissions = [
            ("open_ticket", "Can open a support case for a customer"),
            ("edit_routing", "Can edit support routing rules"),
        ]

    def __str__(self) -> str:
        return self.subject


class RoutingRule(VersionedRules):
    """One version of the support routing rules (one set, no scope)."""

    version = models.PositiveIntegerField(unique=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"routing rules v{self.version}"


class DeskDelivery(models.Model):
    """One webhook delivery from the support desk, stored once by the desk's delivery id."""

    delivery_id = models.CharField(max_length=200, unique=True)
    event_type = models.CharField(max_length=100, blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    outcome = models.CharField(max_length=30, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return self.delivery_id


class ApiKey(models.Model):
    """The key one of the founder's own apps opens tickets with (``support.intake``). Only a hash of
    the key is kept: it is shown once, when it is made. Revoked keys stay, for the audit trail."""

    name = models.CharField(max_length=100, help_text="Which app calls with it, e.g. iOS app")
    prefix = models.CharField(max_length=20, unique=True, help_text="The key's first characters, to recognise it")
    key_hash = models.CharField(max_length=64)  # SHA-256 of the whole key (random, 256 bits: no slow hash needed)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("manage_api_keys", "Can make and revoke the product apps' API keys")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ChangeKind(models.TextChoices):
    UPDATE = "update", "Ticket update"
    REPLY = "reply", "Public reply"
    COMMENT = "comment", "Internal comment"


class ChangeState(models.TextChoices):
    PENDING = "pending", "Pending at the desk"
    # The desk accepted the call; a status change waits for the desk's webhook to say it holds.
    SENT = "sent", "Accepted by the desk, waiting for its confirmation"
    CONFIRMED = "confirmed", "Confirmed by the desk"


class TicketChange(models.Model):
    """One change a person asked of a desk ticket (fields, a reply or a comment), sent through the outbox.

    A change the desk refuses is not a stored state: its job is dead (and a retry from the queue may
    revive it), so "rejected" is read from the job, with the desk's reason as the job's last error.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    # Only what changes, in our names: {"status": "solved", "priority": "high", "group": "Billing"}.
    fields = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=10, choices=ChangeState.choices, default=ChangeState.PENDING)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sync_job = models.OneToOneField(
        "sync.SyncJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="ticket_change"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the ticket page lists its changes; the desk's webhook confirms the open ones
            models.Index(fields=["ticket", "-created_at"], name="ticket_change_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of ticket {self.ticket_id}"

    @property
    def rejected(self) -> bool:
        return self.state == ChangeState.PENDING and self.sync_job is not None and self.sync_job.status == JobStatus.DEAD

    @property
    def summary(self) -> str:
        parts = [f"{name} → {value}" for name, value in sorted(self.fields.items())]
        if self.body:
            parts.append("public reply" if self.kind == ChangeKind.REPLY else "internal comment")
        return ", ".join(parts)
