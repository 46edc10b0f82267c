from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Coalesce


class EventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    IGNORED = "ignored", "Ignored"


class StripeEventQuerySet(models.QuerySet):
    def failed(self) -> "StripeEventQuerySet":
        return self.filter(status=EventStatus.FAILED)


class StripeEvent(models.Model):
    """One Stripe webhook event exactly as delivered: the log everything else is derived from."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    api_version = models.CharField(max_length=50, blank=True)
    livemode = models.BooleanField(default=False)
    created = models.DateTimeField(help_text="When Stripe created the event")
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=20, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    error_class = models.CharField(max_length=100, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    mode_mismatch = models.BooleanField(
        default=False, help_text="Live event on a test install or the reverse: stored, not applied"
    )
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="stripe_events"
    )
    secret_index = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Which configured webhook secret verified it (0 = first)"
    )
    correlation_id = models.CharField(max_length=64, blank=True)
    # When a wake-up was last published for it: the sweeper sends another only once this one
    # has had time to arrive, so the broker holds at most one per waiting event.
    woken_at = models.DateTimeField(null=True, blank=True)
    # The Stripe customer its object belongs to (as the door read it): a customer's events are applied
    # in Stripe's order even when two workers take them at once (billing/services/processing.py).
    stripe_customer_id = models.CharField(max_length=255, blank=True, default="")

    objects = StripeEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            # the webhook log: filter by status/type, newest first
            models.Index(fields=["status", "-received_at"], name="event_status_received_idx"),
            models.Index(fields=["type", "-received_at"], name="event_type_received_idx"),
            # a customer's timeline
            models.Index(fields=["customer", "-created"], name="event_customer_created_idx"),
            # a customer's events still waiting (only those rows are in it)
            models.Index(fields=["stripe_customer_id"], condition=models.Q(status="received"),
                         name="event_waiting_customer_idx"),
            # the queue's failed events: newest first, and counted (with when each last changed)
            # from the index alone
            models.Index(fields=["-received_at", "-id", "next_attempt_at"],
                         condition=models.Q(status="failed"), name="event_failed_queue_idx"),
        ]
        permissions = [
            ("view_event_payload", "Can see webhook payloads unredacted"),
            ("replay_event", "Can replay webhook events"),
            ("issue_refund", "Can request refunds"),
            ("approve_refund", "Can approve or reject refunds above the threshold"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_id}"

    @property
    def error_text(self) -> str:
        """The error as one line: the class once, whether or not the message already starts with it."""
        if not self.error_class or self.last_error.startswith(self.error_class):
            return self.last_error
        return f"{self.error_class}: {self.last_error}"


class StripeMirror(models.Model):
    """Fields every local copy of a Stripe object shares.

    ``last_event_created`` is the ``created`` time of the newest event applied:
    an older event never overwrites what a newer one wrote.
    """

    stripe_id = models.CharField(max_length=255, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="%(class)ss"
    )
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    livemode = models.BooleanField(default=False)
    stripe_created = models.DateTimeField(null=True, blank=True)
    last_event_created = models.DateTimeField(null=True, blank=True)
    last_event_id = models.CharField(max_length=255, blank=True)
    last_event_rank = models.PositiveSmallIntegerField(
        default=0, help_text="Breaks ties between events Stripe created in the same second"
    )
    deleted = models.BooleanField(default=False)
    data = models.JSONField(default=dict, help_text="The object as last applied")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-stripe_created", "-id"]

    def __str__(self) -> str:
        return self.stripe_id


class StripeCustomer(StripeMirror):
    """Stripe's customer object; the canonical ``customers.Customer`` takes email and name from it."""

    email = models.EmailField(blank=True)
    name = models.CharField(max_length=200, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    balance = models.BigIntegerField(default=0)
    delinquent = models.BooleanField(default=False)


class Subscription(StripeMirror):
    status = models.CharField(max_length=30, blank=True)
    price_id = models.CharField(max_length=255, blank=True)
    plan_name = models.CharField(max_length=200, blank=True)
    amount = models.BigIntegerField(default=0, help_text="Per interval, minor units, all items")
    currency = models.CharField(max_length=3, blank=True)
    interval = models.CharField(max_length=10, blank=True)
    interval_count = models.PositiveIntegerField(default=1)
    quantity = models.PositiveIntegerField(default=1)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta(StripeMirror.Meta):
        indexes = [models.Index(fields=["customer", "status"], name="subscription_customer_idx")]


class Invoice(StripeMirror):
    subscription_stripe_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=30, blank=True)
    number = models.CharField(max_length=100, blank=True)
    amount_due = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    amount_remaining = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    billing_reason = models.CharField(max_length=50, blank=True)
    payment_failed = models.BooleanField(default=False, help_text="The latest payment attempt failed")
    next_payment_attempt = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta(StripeMirror.Meta):
        indexes = [
            models.Index(fields=["customer", "-stripe_created"], name="invoice_customer_idx"),
            # the action queue's failed payments, newest declined attempt first (the order it shows
            # them in): a few open invoices among every invoice ever mirrored; updated_at last so
            # counting the unresolved ones reads only the index
            models.Index(
                Coalesce("last_event_created", "updated_at").desc(), F("id").desc(), F("updated_at"),
                name="invoice_failed_open_idx",
                condition=models.Q(payment_failed=True, status="open", customer__isnull=False),
            ),
        ]


class PaymentIntent(StripeMirror):
    status = models.CharField(max_length=40, blank=True)
    amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    latest_charge_id = models.CharField(max_length=255, blank=True)
    invoice_stripe_id = models.CharField(max_length=255, blank=True)
    failure_code = models.CharField(max_length=100, blank=True)

    class Meta(StripeMirror.Meta):
        indexes = [models.Index(fields=["customer", "-stripe_created"], name="paymentintent_customer_idx")]


class Charge(StripeMirror):
    payment_intent_id = models.CharField(max_length=255, blank=True)
    invoice_stripe_id = models.CharField(max_length=255, blank=True)
    amount = models.BigIntegerField(default=0)
    amount_refunded = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=30, blank=True)
    paid = models.BooleanField(default=False)
    refunded = models.BooleanField(default=False)
    disputed = models.BooleanField(default=False)
    failure_code = models.CharField(max_length=100, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    description = models.CharField(max_length=300, blank=True)

    class Meta(StripeMirror.Meta):
        indexes = [models.Index(fields=["customer", "-stripe_created"], name="charge_customer_idx")]


class Refund(StripeMirror):
    charge_stripe_id = models.CharField(max_length=255, blank=True)
    amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=30, blank=True)
    reason = models.CharField(max_length=50, blank=True)
    failure_reason = models.CharField(max_length=100, blank=True)

    class Meta(StripeMirror.Meta):
        indexes = [models.Index(fields=["charge_stripe_id"], name="refund_charge_idx")]


# Stripe's dispute statuses that still wait for evidence or a decision (won, lost, ... are closed).
OPEN_DISPUTE_STATUSES = ("warning_needs_response", "needs_response", "warning_under_review", "under_review")


class DisputeQuerySet(models.QuerySet):
    def open(self) -> "DisputeQuerySet":
        return self.filter(status__in=OPEN_DISPUTE_STATUSES)


class Dispute(StripeMirror):
    charge_stripe_id = models.CharField(max_length=255, blank=True)
    amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=60, blank=True)
    evidence_due_by = models.DateTimeField(null=True, blank=True)

    objects = DisputeQuerySet.as_manager()

    class Meta(StripeMirror.Meta):
        indexes = [models.Index(fields=["status"], name="dispute_status_idx")]


class RefundReason(models.TextChoices):
    """Stripe's refund reasons; the free note says the rest."""

    REQUESTED_BY_CUSTOMER = "requested_by_customer", "Requested by the customer"
    DUPLICATE = "duplicate", "Duplicate payment"
    FRAUDULENT = "fraudulent", "Fraudulent"


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    PENDING = "pending", "Pending at Stripe"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"


class RefundRequest(models.Model):
    """A person's request to refund (part of) a charge, from the form to Stripe's answer.

    ``idempotency_key`` is derived from the row, so every call to Stripe for this
    request (a retry, a second worker, a double submit) is the same refund.
    """

    IN_FLIGHT = (RefundStatus.REQUESTED, RefundStatus.AWAITING_APPROVAL, RefundStatus.PENDING)

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="refund_requests")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="refund_requests"
    )
    amount = models.BigIntegerField(help_text="Minor units, in the charge's currency")
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=30, choices=RefundReason.choices)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="refund_requests"
    )
    needs_approval = models.BooleanField(default=False)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver_note = models.CharField(max_length=500, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    submit_token = models.CharField(
        max_length=64, unique=True, help_text="One per confirmation form: a second submit finds the first request"
    )
    idempotency_key = models.CharField(max_length=100, blank=True)
    stripe_refund_id = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=300, blank=True, help_text="Stripe's answer as a sentence")
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refundrequest_amount_positive"),
            models.UniqueConstraint(
                fields=["stripe_refund_id"],
                condition=~models.Q(stripe_refund_id=""),
                name="refundrequest_unique_stripe_refund",
            ),
        ]
        indexes = [
            # the approval queue and the refundable amount: open requests
            models.Index(fields=["status", "-created_at"], name="refundrequest_status_idx"),
            # the refundable amount of one charge
            models.Index(fields=["charge", "status"], name="refundrequest_charge_idx"),
        ]

    def __str__(self) -> str:
        return f"refund-request-{self.pk}"


class DriftQuerySet(models.QuerySet):
    def open(self) -> "DriftQuerySet":
        return self.filter(resolved_at__isnull=True)


class Drift(models.Model):
    """A difference between Stripe and our mirrors, found by reconciliation (``billing.services.reconcile``),
    which writes and resolves it; monitoring alerts on the open ones and lists them."""

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
        db_table = "monitoring_drift"  # the table it had under monitoring: moving the model moved no rows
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


class SubscriptionChangeKind(models.TextChoices):
    CANCEL_AT_PERIOD_END = "cancel_at_period_end", "Cancel at period end"
    CANCEL_NOW = "cancel_now", "Cancel now"
    UNDO_CANCEL = "undo_cancel", "Undo the cancellation"
    CHANGE_PLAN = "change_plan", "Change plan"
    PAUSE_COLLECTION = "pause_collection", "Pause collection"
    RESUME_COLLECTION = "resume_collection", "Resume collection"
    EXTEND_TRIAL = "extend_trial", "Extend the trial"


class SubscriptionChangeStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    REQUESTED = "requested", "Requested"
    SENT = "sent", "Sent to Stripe"
    CONFIRMED = "confirmed", "Confirmed by Stripe"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"


class SubscriptionChange(models.Model):
    """A person's request to change a subscription at Stripe, from the confirmation page to Stripe's webhook.

    One Stripe call per request, under ``idempotency_key`` (derived from the row), so a double
    submit or a retry after a timeout is the same change. The mirror is never written from here:
    the ``customer.subscription.*`` event that follows updates it, and confirms the request.
    """

    OPEN = (SubscriptionChangeStatus.AWAITING_APPROVAL, SubscriptionChangeStatus.REQUESTED,
            SubscriptionChangeStatus.SENT)

    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="changes")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="subscription_changes"
    )
    kind = models.CharField(max_length=30, choices=SubscriptionChangeKind.choices)
    status = models.CharField(
        max_length=20, choices=SubscriptionChangeStatus.choices, default=SubscriptionChangeStatus.REQUESTED
    )
    # what changes, by kind
    price_id = models.CharField(max_length=255, blank=True, help_text="change_plan: the new price")
    price_label = models.CharField(max_length=200, blank=True)
    proration_date = models.DateTimeField(null=True, blank=True, help_text="change_plan: the preview's moment")
    due_now = models.BigIntegerField(null=True, blank=True, help_text="change_plan preview, minor units")
    next_invoice = models.BigIntegerField(null=True, blank=True, help_text="change_plan preview, minor units")
    pause_behavior = models.CharField(max_length=30, blank=True)
    resumes_at = models.DateTimeField(null=True, blank=True, help_text="pause_collection: when billing resumes")
    trial_end = models.DateTimeField(null=True, blank=True, help_text="extend_trial: the new end")
    refund_amount = models.BigIntegerField(default=0, help_text="cancel_now: prorated refund, minor units")
    refund_charge = models.ForeignKey(Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refund_request = models.ForeignKey(
        RefundRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscription_changes"
    )
    currency = models.CharField(max_length=3, blank=True)
    note = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="subscription_changes"
    )
    needs_approval = models.BooleanField(default=False)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approver_note = models.CharField(max_length=500, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    submit_token = models.CharField(
        max_length=64, unique=True, help_text="One per confirmation form: a second submit finds the first request"
    )
    idempotency_key = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True, help_text="Stripe's answer as a sentence")
    answered = models.BooleanField(default=False, help_text="Stripe's API reply arrived (accepted)")
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_event_id = models.CharField(max_length=255, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(refund_amount__gte=0), name="subscriptionchange_refund_gte_0"),
        ]
        indexes = [
            # the 360's and the webhook's open requests of one subscription
            models.Index(fields=["subscription", "status"], name="subscriptionchange_sub_idx"),
            # the approval queue and the resend sweep
            models.Index(fields=["status", "-created_at"], name="subscriptionchange_status_idx"),
        ]
        permissions = [("manage_subscription", "Can change, pause or cancel subscriptions at Stripe")]

    def __str__(self) -> str:
        return f"subscription-change-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN
