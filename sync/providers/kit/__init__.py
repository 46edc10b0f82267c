"""Kit (ConvertKit) v4: upsert the subscriber by email, add or remove tags.

Kit answers a 429 with plain text and no Retry-After: the executor's
exponential backoff and the shared token bucket handle it.
"""

from sync.providers.kit.client import cost, credential, perform, preview
from sync.providers.kit.conf import (
    CREDENTIALS,
    LABEL,
    NAME,
    RATE_LIMIT,
    SYSTEMS,
    record_url,
    settings_from_env,
)

__all__ = [
    "CREDENTIALS", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "cost", "credential", "perform", "preview",
    "record_url", "settings_from_env",
]
