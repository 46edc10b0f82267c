"""Intercom: contacts by our external id (search, then update or create), tags, tickets.

Serves the CRM or the support desk, as SYNC_CRM_PROVIDER / SYNC_SUPPORT_PROVIDER say.
"""

from sync.providers.intercom.client import cost, credential, perform, preview
from sync.providers.intercom.conf import (
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
