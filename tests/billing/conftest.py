import json
from pathlib import Path

import pytest
from django.conf import settings

from tests.stripe_events import OLD_SECRET, SECRET


@pytest.fixture(autouse=True)
def webhook_secrets(settings):
    settings.STRIPE_WEBHOOK_SECRETS = [SECRET]
    settings.STRIPE_LIVEMODE = False
    return settings


@pytest.fixture
def rotating_secrets(settings):
    settings.STRIPE_WEBHOOK_SECRETS = [SECRET, OLD_SECRET]
    return settings


def shared_events_dir() -> Path | None:
    path = Path(settings.SHARED_FIXTURES_DIR) / "stripe" / "events"
    return path if path.is_dir() else None


@pytest.fixture
def shared_events():
    """The real Stripe payloads shared beside the checkout; absent in a user's clone."""
    path = shared_events_dir()
    if path is None:
        pytest.skip(f"shared Stripe fixtures not found at {settings.SHARED_FIXTURES_DIR} (set SHARED_FIXTURES_DIR)")
    return {f.name: f.read_bytes() for f in sorted(path.glob("*.json"))}


def with_fresh_id(raw: bytes, event_id: str, *, livemode: bool | None = None) -> bytes:
    payload = json.loads(raw)
    payload["id"] = event_id
    if livemode is not None:
        payload["livemode"] = livemode
    return json.dumps(payload).encode()


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POST a signed event and run what its commit schedules (the worker runs eagerly in tests)."""
    from tests import stripe_events as se

    def _deliver(payload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return se.post(client, payload, **kwargs)

    return _deliver
