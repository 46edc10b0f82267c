"""One attempt to deliver a signed body to an endpoint, over the outbox's one HTTP path.

The body is sent byte for byte as it was signed. Failures become the outbox's ``ProviderError``
(429 and 5xx transient with their ``Retry-After``, a timeout transient, other 4xx permanent), so a
webhook delivery is retried, backed off and dead-lettered exactly like a job for any other tool; the
redacted exchange lands in the attempt's trace with its status and timing.
"""

import time
from urllib.parse import urlsplit
from datetime import datetime

import requests
from django.conf import settings

from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.http import error_for, record, session_for
from webhooks import signing

TOOL = "webhook"
USER_AGENT = "Switchboard-Webhooks/1"


def deliver(url: str, message_id: str, body: str, keys: signing.Keys | None, now: datetime) -> int:
    """POST ``body`` to ``url`` signed with ``keys`` at ``now`` (unsigned without keys: a Slack route);
    the status of a 2xx answer, else raise."""
    signed = signing.headers(message_id, body, keys, now) if keys else {}
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **signed}
    # Only the host: an endpoint's path may itself be a secret (a Slack incoming webhook's is).
    entry = {"provider": TOOL, "method": "POST", "host": urlsplit(url).netloc, "webhook_id": message_id}
    started = time.monotonic()
    try:
        response = session_for(TOOL, url, "").post(
            url, data=body.encode(), headers=headers, allow_redirects=False,
            timeout=(settings.SYNC_HTTP_CONNECT_TIMEOUT, settings.SYNC_HTTP_READ_TIMEOUT))
    except requests.Timeout as exc:
        record({**entry, "error": "timeout", "ms": _ms(started)})
        raise ProviderError("The endpoint did not answer in time", permanent=False,
                            reason_code=ReasonCode.TIMEOUT) from exc
    except requests.RequestException as exc:
        record({**entry, "error": type(exc).__name__, "ms": _ms(started)})
        raise ProviderError(f"The endpoint could not be reached ({type(exc).__name__})", permanent=False,
                            reason_code=ReasonCode.UNAVAILABLE) from exc
    record({**entry, "status": response.status_code, "ms": _ms(started)})
    if 200 <= response.status_code < 300:
        return response.status_code
    raise error_for(response, "The endpoint")


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
