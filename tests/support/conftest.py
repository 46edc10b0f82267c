import base64
import hashlib
import hmac
import json
from datetime import datetime, timezone

import pytest

from tests import stripe_events as se
from tests.sync import fakes

DESK_SECRET = "desk-signing-secret-for-tests"
# For what only Zendesk has (its groups and "on hold", its audits' metadata, its webhook's own scheme): the
# ``desk`` fixture below, Zendesk alone. Each use says why in a line.
ZENDESK_ONLY = pytest.mark.parametrize("desk", ["zendesk"], indirect=True)
INTERCOM_ONLY = pytest.mark.parametrize("desk", ["intercom"], indirect=True)  # what only Intercom does or lacks


@pytest.fixture(autouse=True)
def support_settings(settings):
    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    settings.STRIPE_LIVEMODE = False
    settings.SUPPORT_WEBHOOK_SECRET = DESK_SECRET
    settings.SITE_URL = "https://switchboard.example.com"
    settings.SYNC_HTTP_CONNECT_TIMEOUT = 1
    settings.SYNC_HTTP_READ_TIMEOUT = 0.5
    settings.SYNC_RETRY_BASE_SECONDS = 2
    settings.SYNC_RETRY_MAX_SECONDS = 60
    return settings


def _start(settings, fake, values: dict):
    fake.start()
    for key, value in values.items():
        setattr(settings, key, value.format(url=fake.url))
    return fake


@pytest.fixture(params=["zendesk", "intercom"])
def desk(request, settings):
    """The support desk, each of the two an install can choose in turn: a loopback fake serving support,
    read through one neutral face (tests/support/desks.py)."""
    from tests.support.desks import DESKS

    fake = DESKS[request.param]().start()
    fake.configure(settings)
    yield fake
    fake.stop()


@pytest.fixture
def crm(settings):
    fake = _start(
        settings, fakes.HubSpot(), {"HUBSPOT_ACCESS_TOKEN": "test-token", "HUBSPOT_BASE_URL": "{url}"}
    )
    yield fake
    fake.stop()


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POST a signed Stripe event and run what its commit schedules (workers run eagerly in tests)."""

    def _deliver(payload):
        with django_capture_on_commit_callbacks(execute=True):
            response = se.post(client, payload)
        assert response.status_code == 200, response.content
        return response

    return _deliver


def paying_customer(
    deliver,
    cus: str = "cus_PAY1",
    *,
    email: str = "ada@example.com",
    plan: str = "Pro",
    t: int = 1_700_000_000,
) -> None:
    deliver(se.event("customer.created", se.customer(cus, email=email, name="Ada Lovelace"), created=t))
    deliver(
        se.event(
            "customer.subscription.created",
            se.subscription(f"sub_{cus}", cus, status="active", amount=4900, nickname=plan),
            created=t + 1,
        )
    )


def desk_sign(body: bytes, timestamp: str | None = None, secret: str = DESK_SECRET) -> dict:
    ts = timestamp or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    mac = base64.b64encode(hmac.new(secret.encode(), ts.encode() + body, hashlib.sha256).digest()).decode()
    return {"X-Zendesk-Webhook-Signature": mac, "X-Zendesk-Webhook-Signature-Timestamp": ts}


def status_event(
    desk_id: str,
    status: str,
    *,
    external_id: str = "",
    event_id: str = "01HTEST0001",
    time: str = "2026-11-22T10:00:00Z",
) -> bytes:
    """A Zendesk ticket status-changed event, in the event webhook's shape."""
    return json.dumps(
        {
            "type": "zen:event-type:ticket.status_changed",
            "account_id": 88888888,
            "id": event_id,
            "time": time,
            "zendesk_event_version": "2022-11-06",
            "subject": f"zen:ticket:{desk_id}",
            "detail": {
                "id": desk_id,
                "external_id": external_id,
                "status": status.upper(),
                "updated_at": time,
            },
            "event": {"current": status.upper(), "previous": "NEW"},
        }
    ).encode()
