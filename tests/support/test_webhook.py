"""Status back from the desk, whichever it is, signed by the desk, each delivery stored once; then what is\nZendesk's own at POST /webhooks/support/."""

import json

import pytest

from support.models import DeskDelivery, Ticket, TicketStatus
from tests.factories import CustomerFactory
from tests.support.conftest import desk_sign, status_event

pytestmark = pytest.mark.django_db

URL = "/webhooks/support/"


@pytest.fixture
def ticket(db):
    return Ticket.objects.create(
        customer=CustomerFactory(),
        idempotency_key="staff:t1",
        subject="Locked out",
        source="staff",
        status=TicketStatus.NEW,
        external_id="35436",
    )


def post(client, body: bytes, headers: dict | None = None):
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers=desk_sign(body) if headers is None else headers,
    )


def test_a_signed_status_change_updates_our_copy_and_the_360(client, ticket, desk, support):
    response = desk.post_status(client, "35436", "solved")
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    client.force_login(support)
    html = client.get(f"/customers/{ticket.customer.public_id}/").content.decode()
    assert "Locked out" in html and "solved" in html


def test_waiting_for_the_customer_in_the_desks_word_is_ours(client, ticket, desk):
    desk.post_status(client, "35436", "waiting")  # Zendesk's "pending", Intercom's "waiting_on_customer"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING


def test_the_ticket_is_found_by_our_key_before_the_desk_id_is_known(client, deliver, desk):
    from tests import stripe_events as se
    from tests.support.conftest import paying_customer

    desk.force = (503, {"error": "down"})
    paying_customer(deliver)
    deliver(
        se.event(
            "invoice.payment_failed",
            se.invoice("in_X", "cus_PAY1", "sub_cus_PAY1", status="open"),
            created=1_700_000_010,
        )
    )
    ours = Ticket.objects.get()
    response = desk.post_status(client, "777", "open", key=ours.sync_job.idempotency_key)
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    ours.refresh_from_db()
    assert (ours.status, ours.external_id) == (TicketStatus.OPEN, "777")


def test_the_same_delivery_twice_is_stored_and_applied_once(client, ticket, desk):
    assert desk.post_status(client, "35436", "solved").json()["duplicate"] is False
    Ticket.objects.filter(pk=ticket.pk).update(status=TicketStatus.OPEN)  # a later change made here
    again = desk.post_status(client, "35436", "solved")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and DeskDelivery.objects.count() == 1


def test_an_older_change_arriving_late_does_not_undo_a_newer_one(client, ticket, desk):
    desk.post_status(client, "35436", "solved", delivery="e2", at=1_795_000_300)
    response = desk.post_status(client, "35436", "open", delivery="e1", at=1_795_000_000)
    assert response.json()["outcome"] == "stale"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED


def test_a_ticket_we_do_not_know_is_stored_and_acknowledged(client, ticket, desk):
    response = desk.post_status(client, "999", "solved")
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_ticket"
    assert DeskDelivery.objects.get().ticket is None


# Zendesk's own endpoint from here: its signature scheme and body shapes (Intercom's:
# test_intercom_desk_webhook.py).
def test_a_bad_signature_is_refused_and_changes_nothing(client, ticket):
    body = status_event("35436", "solved")
    headers = desk_sign(body, secret="someone-else")
    response = post(client, body, headers)
    assert response.status_code == 401
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and DeskDelivery.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(client, ticket):
    headers = desk_sign(status_event("35436", "open"))
    assert post(client, status_event("35436", "solved"), headers).status_code == 401
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_a_missing_signature_is_refused(client, ticket):
    assert post(client, status_event("35436", "solved"), {}).status_code == 401
    assert DeskDelivery.objects.count() == 0


def test_an_old_signature_is_refused(client, ticket):
    body = status_event("35436", "solved")
    assert post(client, body, desk_sign(body, timestamp="2020-01-01T00:00:00Z")).status_code == 401


def test_without_a_configured_secret_everything_is_refused(client, ticket, settings):
    settings.SUPPORT_WEBHOOK_SECRET = ""
    body = status_event("35436", "solved")
    assert post(client, body, desk_sign(body, secret="")).status_code == 401


def test_a_signed_body_that_is_not_json_is_a_bad_request(client, ticket):
    assert post(client, b"not json").status_code == 400


def test_a_trigger_body_with_the_ticket_fields_works_too(client, ticket):
    body = json.dumps({"ticket_id": "35436", "status": "Solved"}).encode()
    assert post(client, body).json()["outcome"] == "applied"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED


def test_a_signed_delivery_with_times_without_a_zone_is_read_as_utc(client, ticket):
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    body = status_event("35436", "solved", time="2026-11-22T10:00:00")
    response = post(client, body, headers=desk_sign(body, timestamp=now))
    assert response.status_code == 200 and response.json()["outcome"] == "applied"


def test_with_the_cache_down_a_signed_status_change_is_still_applied(client, ticket, cache_down):
    cache_down.SUPPORT_WEBHOOK_RATE_LIMIT = "1/m"
    response = post(client, status_event("35436", "solved"))
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    assert post(client, status_event("35436", "open")).status_code == 429  # still limited, per process
