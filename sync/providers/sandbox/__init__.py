"""No credentials: record the request the configured tool would have received, and succeed.

A new install and the demo work end to end, and each job's attempt shows
(redacted) exactly what would have been sent.
"""

from sync.providers.sandbox.client import ID_PREFIX, cost, credential, perform, preview
from sync.providers.sandbox.conf import (
    CREDENTIALS,
    LABEL,
    NAME,
    RATE_LIMIT,
    SYSTEMS,
    record_url,
    settings_from_env,
)

__all__ = [
    "CREDENTIALS", "ID_PREFIX", "LABEL", "NAME", "RATE_LIMIT", "SYSTEMS", "cost", "credential", "perform",
    "preview", "record_url", "settings_from_env",
]
