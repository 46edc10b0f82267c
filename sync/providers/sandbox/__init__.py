"""No credentials: record the request the configured tool would have received, and succeed.

A new install and the demo work end to end, and each job's attempt shows
(redacted) exactly what would have been sent.
"""

# The tool's face (see sync/providers/__init__.py): its conf and its client together.
from sync.providers.sandbox.client import *  # noqa: F403
from sync.providers.sandbox.conf import *  # noqa: F403
