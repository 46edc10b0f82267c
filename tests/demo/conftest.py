# The billing tests' door fixtures: a configured webhook secret and the shared payloads
# (signed delivery, ``deliver``, is in tests/conftest.py for every folder).
from tests.billing.conftest import shared_events, webhook_secrets  # noqa: F401
