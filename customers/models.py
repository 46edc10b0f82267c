import secrets

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class CustomerStatus(models.TextChoices):
    TRIAL = "trial", "Trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Past due"
    CANCELED = "canceled", "Canceled"
    NEEDS_REVIEW = "needs_review", "Needs review"


class System(models.TextChoices):
    """Outside systems a customer can be linked to. Stripe is the source; the rest are synced."""

    STRIPE = "stripe", "Stripe"
    CRM = "crm", "CRM"
    SUPPORT = "support", "Support desk"
    COMMUNITY = "community", "Community"
    EMAIL = "email", "Email tool"


def new_public_id() -> str:
    return "sw_" + secrets.token_hex(6)


class CustomerQuerySet(models.QuerySet):
    def live(self) -> "CustomerQuerySet":
        """Customers that are not merge tombstones."""
        return self.filter(merged_into__isnull=True)


class Customer(models.Model):
    """The one canonical record of a paying (or trialling) person or company."""

    public_id = models.CharField(max_length=20, unique=True, default=new_public_id, editable=False)
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=CustomerStatus.choices, default=CustomerStatus.TRIAL)
    status_reason = models.CharField(max_length=300, blank=True)
    plan = models.CharField(max_length=100, blank=True)
    mrr = models.BigIntegerField(default=0, help_text="Monthly recurring revenue in minor units")
    currency = models.CharField(max_length=3, blank=True)
    review_reason = models.CharField(max_length=300, blank=True)

    override_status = models.CharField(max_length=20, choices=CustomerStatus.choices, blank=True)
    override_reason = models.CharField(max_length=300, blank=True)
    override_expires_at = models.DateTimeField(null=True, blank=True)
    # Set on few customers (as is assigned_to): a partial index of those (Meta) instead of one that
    # every customer's every save writes.
    override_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_index=False,
    )

    restricted = models.BooleanField(default=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_customers",
        db_index=False,
    )
    # Read through customer_live_created_idx (merged_into first): no index of its own.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from", db_index=False
    )
    last_event_at = models.DateTimeField(null=True, blank=True)
    # What billing told us of email and name, from which the two fields are derived
    # (customers.identity): {"stated": {field: value}, "seen": {field: [value, order key]}}.
    identity_evidence = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # identity resolution (flag_email_conflicts, identity_candidates, support's matching):
            # email__iexact is UPPER("email") = UPPER(%s) on PostgreSQL, which only an index on the
            # same expression answers. Partial-text search uses trigram indexes (migration 0005).
            models.Index(Upper("email"), name="customer_email_upper_idx"),
            # list filters: status, newest first
            models.Index(fields=["status", "-created_at"], name="customer_status_created_idx"),
            models.Index(fields=["plan"], name="customer_plan_idx"),
            # the customer list without filters: keyset pagination, newest first
            models.Index(fields=["-created_at", "-id"], name="customer_created_id_idx"),
            # the same for live customers only (merged_into IS NULL), read in index order
            models.Index(fields=["merged_into", "-created_at", "-id"], name="customer_live_created_idx"),
            # the action queue: live customers waiting for an identity decision, most recently changed first
            models.Index(
                fields=["-updated_at", "-id"], name="customer_review_queue_idx",
                condition=models.Q(status="needs_review", merged_into__isnull=True),
            ),
            # the action queue: overrides that may contradict billing (few rows carry one)
            models.Index(
                fields=["override_status"], name="customer_override_idx", condition=~models.Q(override_status="")
            ),
            # the foreign keys to staff few customers carry: only those customers are in their index
            *(models.Index(fields=[name], name=f"customer_{name}_idx",
                           condition=models.Q(**{f"{name}__isnull": False}))
              for name in ("assigned_to", "override_set_by")),
        ]
        permissions = [
            ("view_billing", "Can view billing state"),
            ("override_status", "Can set a manual status override"),
            ("merge_customer", "Can merge customers or mark them distinct"),
            ("assign_customer", "Can assign customers to staff"),
            ("export_customers", "Can export customer data"),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def override_active(self) -> bool:
        return bool(self.override_status) and (
            self.override_expires_at is None or self.override_expires_at > timezone.now()
        )

    @property
    def effective_status(self) -> str:
        return self.override_status if self.override_active else self.status


class ExternalLink(models.Model):
    """This customer's id in an outside system."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="links")
    system = models.CharField(max_length=20, choices=System.choices)
    external_id = models.CharField(max_length=255)
    provider = models.CharField(max_length=30, blank=True, help_text="Which tool serves the system, e.g. hubspot")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system"]
        constraints = [
            models.UniqueConstraint(fields=["system", "external_id"], name="link_unique_system_external_id"),
            models.UniqueConstraint(fields=["customer", "system"], name="link_unique_customer_system"),
        ]
        indexes = [
            # search: "any outside id", whichever system it belongs to
            models.Index(fields=["external_id"], name="link_external_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.system}:{self.external_id}"


class CustomerUserGrant(UserObjectPermissionBase):
    """A django-guardian grant of a customer permission to one person: the only record of who may see a
    restricted customer (assignment writes one; so does sharing). A real foreign key, so lists join it."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="user_grants")

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "customer grant to a person"


class CustomerGroupGrant(GroupObjectPermissionBase):
    """The same grant given to a group of staff."""

    content_object = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="group_grants")

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = "customer grant to a group"


class CustomerStatusChange(models.Model):
    """Every change of derived status, with the Stripe event that caused it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=CustomerStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=CustomerStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    source_event = models.ForeignKey(
        "billing.StripeEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class CustomerMerge(models.Model):
    """One merge of ``merged`` into ``survivor``, with what moved, so it can be undone within a day."""

    UNDO_WINDOW_HOURS = 24

    survivor = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_survived")
    merged = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="merges_absorbed")
    moved = models.JSONField(default=dict, help_text="model label -> primary keys moved to the survivor")
    previous = models.JSONField(default=dict, help_text="the merged record's status fields before the merge")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.merged_id} -> {self.survivor_id}"

    @property
    def undo_deadline(self):
        from datetime import timedelta

        return self.created_at + timedelta(hours=self.UNDO_WINDOW_HOURS)

    @property
    def undoable(self) -> bool:
        return self.undone_at is None and timezone.now() < self.undo_deadline


class DistinctPair(models.Model):
    """Two customers staff confirmed are different people: identity checks must not flag them again.

    Stored with the smaller id first, so a pair has one row whichever way round it was marked.
    """

    low = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    high = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(max_length=300, blank=True)
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["low", "high"], name="distinct_pair_unique"),
            models.CheckConstraint(condition=models.Q(low__lt=models.F("high")), name="distinct_pair_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.low_id} != {self.high_id}"


class CustomerNote(models.Model):
    """What a person wrote about a customer. Never deleted: a correction is a new note pointing at the old
    one. Its author may edit it for a short while (``EDIT_MINUTES``); after that it reaches the CRM as it
    stands, once. An internal note is for finance and the owner only and stays in Switchboard."""

    EDIT_MINUTES = 15

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField()
    internal = models.BooleanField(default=False, help_text="Internal to finance: finance and the owner see it")
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # the 360's notes panel: one customer's notes, newest first
            models.Index(fields=["customer", "-created_at", "-id"], name="note_customer_created_idx"),
        ]
        permissions = [("view_internal_notes", "Can read and write notes internal to finance")]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.customer_id}"

    @property
    def edit_deadline(self):
        from datetime import timedelta

        return self.created_at + timedelta(minutes=self.EDIT_MINUTES)

    def editable_by(self, user, now=None) -> bool:
        return user.is_authenticated and self.author_id == user.pk and (now or timezone.now()) < self.edit_deadline
