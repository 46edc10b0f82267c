"""HubSpot CRM v3: one upsert per job, keyed by our id (or email), through batch upsert."""

from sync.providers.hubspot.client import cost, credential, perform, preview
from sync.providers.hubspot.conf import (
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
