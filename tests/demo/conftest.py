# The billing tests' door fixtures: a configured webhook secret, signed delivery, the shared payloads.
from tests.billing.conftest import deliver, shared_events, webhook_secrets  # noqa: F401
