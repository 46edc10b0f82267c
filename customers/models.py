import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


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
    override_set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    restricted = models.BooleanField(default=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_customers",
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    last_event_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # identity resolution and search by email
            models.Index(fields=["email"], name="customer_email_idx"),
            # list filters: status, newest first
            models.Index(fields=["status", "-created_at"], name="customer_status_created_idx"),
            models.Index(fields=["plan"], name="customer_plan_idx"),
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

    def __str__(self) -> str:
        return f"{self.system}:{self.external_id}"


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
