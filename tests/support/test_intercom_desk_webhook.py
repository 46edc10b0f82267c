"""What is Intercom's own in its webhook, POST /webhooks/support/intercom/ (what every desk's webhook does is
in test_webhook.py): signed with the app's client secret (X-Hub-Signature), its state objects, other topics."""

import json

import pytest

from support.models import DeskDelivery, Ticket, TicketStatus
from sync.providers.intercom.webhook import hub_signature
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/webhooks/support/intercom/"
SECRET = "intercom-client-secret-for-tests"


@pytest.fixture(autouse=True)
def client_secret(settings):
    settings.INTERCOM_CLIENT_SECRET = SECRET


def notification(ticket_id: str, state, *, notif: str = "notif_1", updated_at: int = 1_795_000_000,
                 description: str = "Paid, cannot get in.") -> bytes:
    """A ticket.state.updated notification, in Intercom's webhook shape."""
    return json.dumps({
        "type": "notification_event", "app_id": "abc123", "id": notif, "topic": "ticket.state.updated",
        "delivery_status": "pending", "delivery_attempts": 1, "created_at": updated_at,
        "data": {"type": "notification_event_data", "item": {
            "type": "ticket", "id": ticket_id, "ticket_id": "7", "ticket_state": state, "updated_at": updated_at,
            "ticket_attributes": {"_default_title_": "Locked out", "_default_description_": description}}},
    }).encode()


def post(client, body: bytes, signature: str | None = None):
    headers = {"X-Hub-Signature": hub_signature(body, SECRET) if signature is None else signature}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def ticket(db):
    return Ticket.objects.create(customer=CustomerFactory(), idempotency_key="staff:i1", subject="Locked out",
                                 source="staff", status=TicketStatus.NEW, external_id="1042")


def test_the_state_object_of_newer_api_versions_is_read_by_its_category(client, ticket):
    state = {"type": "ticket_state", "id": "9", "category": "resolved", "internal_label": "Done"}
    assert post(client, notification("1042", state)).json()["outcome"] == "applied"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED


@pytest.mark.parametrize("signature", ["", "sha1=" + "0" * 40, "sha256=abc"])
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(client, ticket, signature):
    assert post(client, notification("1042", "resolved"), signature=signature).status_code == 401
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and not DeskDelivery.objects.exists()


def test_a_body_changed_after_signing_is_refused(client, ticket):
    body = notification("1042", "resolved")
    signature = hub_signature(body, SECRET)
    assert post(client, body.replace(b"resolved", b"submitted"), signature=signature).status_code == 401


def test_without_a_client_secret_every_notification_is_refused(client, ticket, settings):
    settings.INTERCOM_CLIENT_SECRET = ""
    assert post(client, notification("1042", "resolved"), signature=hub_signature(b"", "")).status_code == 401


def test_a_head_request_answers_without_storing_anything_and_get_is_refused(client):
    assert client.head(URL).status_code == 200
    assert client.get(URL).status_code == 405 and not DeskDelivery.objects.exists()


def test_a_ping_or_another_topic_is_stored_and_changes_no_ticket(client, ticket):
    body = json.dumps({"type": "notification_event", "id": "notif_ping", "topic": "ping",
                       "data": {"type": "notification_event_data", "item": {"type": "ping", "message": "hi"}}}).encode()
    assert post(client, body).json() == {"received": True, "outcome": "no_status", "duplicate": False}
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW
