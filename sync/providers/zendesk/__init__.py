"""Zendesk Support: users by our external id, tickets keyed by the job's idempotency key, and the
signed webhook that brings ticket status back (``webhook.py``)."""

# The tool's face (see sync/providers/__init__.py): its conf and its client together.
from sync.providers.zendesk.client import *  # noqa: F403
from sync.providers.zendesk.conf import *  # noqa: F403
