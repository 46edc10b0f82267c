"""Circle Admin API v2: grant the plan's spaces to a member, remove the member on cancellation.

Circle has no idempotency key: look the member up by email first, and treat
"already a member" answers as done.
"""

from sync.providers.circle.client import cost, credential, perform, preview
from sync.providers.circle.conf import (
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
