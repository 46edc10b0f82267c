"""Duplicates delivered at the same moment (threads against a live server on PostgreSQL)."""

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from support.models import DeskDelivery, Ticket, TicketStatus
from tests import stripe_events as se
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        print("skipping: SQLite runs one writer at a time, so there is no race to test")
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so there is no race to test")


def at_once(send, copies: int = 4) -> list:
    barrier = threading.Barrier(copies)

    def go(n):
        barrier.wait()
        return send(n)

    with ThreadPoolExecutor(copies) as pool:
        return list(pool.map(go, range(copies)))


def post_event(url: str, evt: dict) -> int:
    raw = json.dumps(evt).encode()
    return requests.post(
        f"{url}/webhooks/stripe/",
        data=raw,
        timeout=30,
        headers={"Stripe-Signature": se.sign(raw), "Content-Type": "application/json"},
    ).status_code


def test_a_failed_payment_delivered_four_times_at_once_opens_one_ticket(live_server, desk):
    t = 1_700_000_000
    assert (
        post_event(
            live_server.url,
            se.event("customer.created", se.customer("cus_C1", email="c@example.com"), created=t),
        )
        == 200
    )
    assert (
        post_event(
            live_server.url,
            se.event("customer.subscription.created", se.subscription("sub_C1", "cus_C1"), created=t + 1),
        )
        == 200
    )
    failed = se.event(
        "invoice.payment_failed", se.invoice("in_C1", "cus_C1", "sub_C1", status="open"), created=t + 2
    )
    assert at_once(lambda _: post_event(live_server.url, failed)) == [200] * 4
    ticket = Ticket.objects.get()
    assert ticket.status == TicketStatus.NEW
    assert len(desk.made) == 1


def test_one_form_sent_four_times_at_once_opens_one_ticket(live_server, desk):
    CustomerFactory(email="ada@example.com")
    session = requests.Session()
    html = session.get(f"{live_server.url}/support/new", timeout=30).text
    data = {
        "name": "Ada",
        "email": "ada@example.com",
        "category": "bug",
        "message": "The export button fails.",
        "token": re.search(r'name="token" value="([^"]+)"', html).group(1),
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1),
    }
    cookies = session.cookies.get_dict()

    def send(_):
        return requests.post(
            f"{live_server.url}/support/new",
            data=data,
            cookies=cookies,
            timeout=30,
            headers={"Referer": live_server.url},
            allow_redirects=False,
        ).status_code

    assert at_once(send) == [302] * 4
    assert Ticket.objects.count() == 1 and len(desk.made) == 1


def test_one_desk_delivery_sent_four_times_at_once_is_stored_once(live_server, desk):
    ticket = Ticket.objects.create(
        customer=CustomerFactory(),
        idempotency_key="staff:c1",
        subject="x",
        source="staff",
        status=TicketStatus.NEW,
        external_id="4242",
    )
    path, body, headers = desk.status_request("4242", "solved")

    def send(_):
        return requests.post(
            f"{live_server.url}{path}", data=body, headers={**headers, "Content-Type": "application/json"}, timeout=30
        ).status_code

    assert at_once(send) == [200] * 4
    assert DeskDelivery.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
