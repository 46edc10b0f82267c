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
