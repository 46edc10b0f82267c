from django.db import models


class TicketSource(models.TextChoices):
    BILLING = "billing", "Billing fact"
    STAFF = "staff", "Staff"
    FORM = "form", "Support form"


class TicketPriority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


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
    status = models.CharField(max_length=20, default="pending")
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=10, choices=TicketSource.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "-created_at"], name="ticket_customer_idx")]
        permissions = [
            ("open_ticket", "Can open a support case for a customer"),
            ("edit_routing", "Can edit support routing rules"),
        ]

    def __str__(self) -> str:
        return self.subject
