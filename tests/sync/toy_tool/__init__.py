"""A sixth outside tool that exists only for the tests: a CRM ("Toy CRM") that keeps people by our id.

It is what adding a tool takes: this folder, shaped like sync/providers/hubspot/, and its dotted
path added to ``sync.providers.TOOLS`` (the tests add it for their duration).
"""

# The tool's face (see sync/providers/__init__.py): its conf and its client together.
from tests.sync.toy_tool.client import *  # noqa: F403
from tests.sync.toy_tool.conf import *  # noqa: F403
