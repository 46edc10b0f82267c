"""An endpoint the scheduled check switched off is an incident until a person switches it on again
(its messages go out like every alert's: email and the alert webhook, never through the outbox)."""

from datetime import datetime

from django.urls import reverse

from monitoring.rules import Finding, rule
from webhooks.models import Endpoint


@rule("webhook_endpoint_disabled", "Outbound webhook endpoint switched off")
def endpoint_disabled(now: datetime) -> list[Finding]:
    return [Finding(f"Outbound webhook {endpoint} was switched off: {endpoint.disabled_reason}",
                    reverse("webhook_endpoint", args=[endpoint.pk]), key=f"endpoint:{endpoint.pk}")
            for endpoint in Endpoint.objects.filter(enabled=False, disabled_automatically=True)]
