from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q

from webhooks import signing, slack

# Beside our id and plan (always carried), what a Slack route may tell about the customer.
PERSONAL_FIELDS = {"email": "Email", "name": "Name"}
SYSTEM_PREFIX = "webhook:"
# Who may register endpoints, see their deliveries and resend them (the owner, by role).
MANAGE_PERM = "webhooks.manage_endpoints"


class EndpointKind(models.TextChoices):
    STANDARD = "standard", "Signed webhook (Standard Webhooks)"
    SLACK = "slack", "Slack incoming webhook"


class Endpoint(models.Model):
    """Where Switchboard's facts go: a receiver of signed deliveries, or a Slack channel's incoming
    webhook (the team's notices). Each is its own outbox system (``webhook:<id>``), so its breaker,
    rate limit and pause are its own and one slow receiver holds up no other."""

    kind = models.CharField(max_length=20, choices=EndpointKind.choices, default=EndpointKind.STANDARD)
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, blank=True)  # catalog names a signed endpoint receives
    # Kept as they are, since they sign: shown to the owner once, when made.
    secret = models.CharField(max_length=100, blank=True)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Switched off by the scheduled check (failing too long), not by a person: an incident stays open.
    disabled_automatically = models.BooleanField(default=False)
    # The first failed delivery since the last one that got through; empty while deliveries succeed.
    failing_since = models.DateTimeField(null=True, blank=True)
    # A Slack route: which notices, above which refund, and what it may say about the customer.
    notices = models.JSONField(default=list, blank=True)
    refund_threshold_cents = models.PositiveIntegerField(default=0)
    personal_fields = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind="slack") | ~Q(secret=""), name="endpoint_signed_has_secret"),
        ]
        indexes = [
            # the scheduled check: enabled endpoints that have been failing
            models.Index(fields=["failing_since"], name="endpoint_failing_idx", condition=Q(enabled=True)),
        ]
        permissions = [("manage_endpoints", "Can manage outbound webhooks and Slack routes")]

    def __str__(self) -> str:
        return self.description or self.url_host()

    @property
    def system(self) -> str:
        """The outbox system of this endpoint's deliveries."""
        return f"{SYSTEM_PREFIX}{self.pk}"

    @property
    def is_slack(self) -> bool:
        return self.kind == EndpointKind.SLACK

    def url_host(self) -> str:
        """The address without its path: a Slack webhook's path is itself the secret."""
        return urlsplit(self.url).netloc

    def keys(self) -> signing.Keys:
        return signing.Keys(current=self.secret, previous=self.previous_secret,
                            previous_until=self.previous_secret_until)

    def overlapping(self, now: datetime) -> bool:
        return len(self.keys().signing(now)) > 1

    def route(self) -> slack.Route:
        return slack.Route(frozenset(self.notices), refund_threshold_cents=self.refund_threshold_cents,
                           personal_fields=frozenset(self.personal_fields))

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types
