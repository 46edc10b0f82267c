"""One change form submitted four times at the same moment is one change and one job (PostgreSQL)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from support.models import Ticket, TicketChange, TicketStatus
from support.services import ticket_change
from sync.models import SyncJob
from tests.factories import CustomerFactory, SyncJobFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so there is no race to test")


def test_the_same_change_four_times_at_once_is_one_change(support):
    customer = CustomerFactory()
    created_by = SyncJobFactory(customer=customer, system="support", action="create_ticket", status="succeeded",
                                external_id="4242")
    ticket = Ticket.objects.create(customer=customer, idempotency_key="staff:race", subject="Race", source="staff",
                                   status=TicketStatus.OPEN, external_id="4242", sync_job=created_by)
    barrier = threading.Barrier(4)

    def go(_):
        barrier.wait()
        try:
            return ticket_change(ticket=ticket, actor=support, token="same-token-" * 2, status="solved").pk
        finally:
            connections.close_all()

    with ThreadPoolExecutor(4) as pool:
        ids = set(pool.map(go, range(4)))
    assert len(ids) == 1 and TicketChange.objects.count() == 1
    assert SyncJob.objects.filter(action="update_ticket").count() == 1
