"""Intercom: contacts by our external id (search, then update or create), tags, tickets.

Serves the CRM or the support desk, as SYNC_CRM_PROVIDER / SYNC_SUPPORT_PROVIDER say.
"""

# The tool's face (see sync/providers/__init__.py): its conf and its client together.
from sync.providers.intercom.client import *  # noqa: F403
from sync.providers.intercom.conf import *  # noqa: F403
