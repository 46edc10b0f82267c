"""Kit (ConvertKit) v4: upsert the subscriber by email, add or remove tags.

Kit answers a 429 with plain text and no Retry-After: the executor's
exponential backoff and the shared token bucket handle it.
"""

# The tool's face (see sync/providers/__init__.py): its conf and its client together.
from sync.providers.kit.client import *  # noqa: F403
from sync.providers.kit.conf import *  # noqa: F403
