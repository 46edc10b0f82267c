"""Circle Admin API v2: grant the plan's spaces to a member, remove the member on cancellation.

Circle has no idempotency key: look the member up by email first, and treat
"already a member" answers as done.
"""

# The tool's face (see sync/providers/__init__.py): its conf and its client together.
from sync.providers.circle.client import *  # noqa: F403
from sync.providers.circle.conf import *  # noqa: F403
