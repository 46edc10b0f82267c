"""Each endpoint as the outbox sees it: a tool of its own (system ``webhook:<id>``), so its deliveries
get the retries, backoff, ``Retry-After``, dead-lettering, breaker and pause switch of any job, and a
rate limit of their own (the bucket is keyed by the endpoint).

The body of a fact is fixed when the job is written; the endpoint's address and secrets are read at
each attempt, so a rotated secret or a corrected address applies to deliveries still waiting. Each
attempt's outcome also moves the endpoint's ``failing_since``: the first failure since the last
delivery that got through, which the scheduled check reads to switch off an endpoint failing too long.
"""

import json
from functools import cache

from django.utils import timezone

from sync.providers import Payload, Result
from sync.providers.errors import ProviderError, ReasonCode
from webhooks import send
from webhooks.models import SYSTEM_PREFIX, Endpoint

DELIVER = "deliver"


class EndpointTool:
    """The provider face (see ``sync.providers``) of one endpoint."""

    NAME = send.TOOL
    LABEL = "Outbound webhook"
    SYSTEMS: tuple[str, ...] = ()
    CREDENTIALS: tuple[str, ...] = ()
    RATE_LIMIT = ("WEBHOOK_RATE_LIMIT", 10, 1)

    def __init__(self, system: str) -> None:
        self.system = system
        self.endpoint_id = int(system.removeprefix(SYSTEM_PREFIX))

    def credential(self) -> str:
        return self.system  # one rate-limit bucket per endpoint

    def cost(self, action: str) -> int:
        return 1

    def record_url(self, external_id: str) -> str:
        return ""

    def preview(self, payload: Payload) -> dict:
        return {"method": "POST", "path": "", "request": json.loads(payload.get("body") or "{}")}

    def perform(self, payload: Payload) -> Result:
        endpoint = Endpoint.objects.filter(pk=self.endpoint_id).first()
        if endpoint is None:
            raise ProviderError("The endpoint was deleted", permanent=True, reason_code=ReasonCode.NOT_FOUND)
        if not endpoint.enabled:  # disabled while this job was claimed: it waits with the others
            raise ProviderError("The endpoint is disabled", permanent=False, reason_code=ReasonCode.UNAVAILABLE)
        now = timezone.now()
        keys = None if endpoint.is_slack else endpoint.keys()
        try:
            send.deliver(endpoint.url, payload.get("message_id"), payload.get("body"), keys, now)
        except ProviderError:
            if endpoint.failing_since is None:
                Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
            raise
        if endpoint.failing_since is not None:
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return Result(external_id=payload.get("message_id") or "")


@cache
def endpoint_tool(system: str) -> EndpointTool:
    return EndpointTool(system)
