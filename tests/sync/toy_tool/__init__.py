"""A sixth outside tool that exists only for the tests: a CRM ("Toy CRM") that keeps people by our id.

It is what adding a tool takes: this folder, shaped like sync/providers/hubspot/, and its dotted
path added to ``sync.providers.TOOLS`` (the tests add it for their duration).
"""

from tests.sync.toy_tool.client import cost, credential, perform, preview
from tests.sync.toy_tool.conf import (
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
