"""The same intake request sent four times at the same moment opens one ticket (PostgreSQL, live server)."""

import json

import pytest
import requests
from django.db import connection

from support.intake_keys import api_key_create
from support.models import Ticket
from tests.factories import CustomerFactory
from tests.support.test_concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        print("skipping: SQLite runs one writer at a time, so there is no race to test")
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so there is no race to test")


def test_one_idempotency_key_four_times_at_once_opens_one_ticket(live_server):
    customer = CustomerFactory()
    raw = api_key_create(name="iOS app")[1]
    body = json.dumps({"customer_id": customer.public_id, "category": "bug", "message": "Crash on start"})

    def send(_n):
        response = requests.post(f"{live_server.url}/support/intake/tickets", data=body, timeout=30, headers={
            "Authorization": f"Bearer {raw}", "Idempotency-Key": "tap-1", "Content-Type": "application/json"})
        return response.status_code, response.json()["ticket"]["id"]

    results = at_once(send)
    assert sorted(status for status, _ in results) == [200, 200, 200, 201]
    assert len({ticket for _, ticket in results}) == 1
    assert Ticket.objects.count() == 1
