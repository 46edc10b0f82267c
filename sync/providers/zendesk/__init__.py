"""Zendesk Support: users by our external id, tickets keyed by the job's idempotency key, and the
signed webhook that brings ticket status back (``webhook.py``)."""

from sync.providers.zendesk.client import cost, credential, perform, preview
from sync.providers.zendesk.conf import (
    CREDENTIALS,
    LABEL,
    NAME,
    RATE_LIMIT,
    SYSTEMS,
    WEBHOOK_SECRET,
    record_url,
    settings_from_env,
)

__all__ = [
    "CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "WEBHOOK_SECRET", "cost", "credential",
    "perform", "preview", "record_url", "settings_from_env",
]
