"""HubSpot CRM v3: contact upserts keyed by our id (or email), through batch upsert, several jobs to a request."""

# The tool's face (see sync/providers/__init__.py): its conf and its client together.
from sync.providers.hubspot.client import *  # noqa: F403
from sync.providers.hubspot.conf import *  # noqa: F403
