"""The door skips Django's per-request "SELECT 1" health check (a round trip as long as its INSERT):
a connection the database dropped while idle fails the INSERT, which is sent once more on a new one."""

import psycopg
import pytest
from django.db import connection

from billing.models import EventStatus, StripeEvent
from tests import stripe_events as se

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_eager_worker():
    """As in production: the door's commit runs nothing (a worker's watcher finds the row)."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def _terminate_our_backend() -> None:
    """What a database restart or an idle-connection reaper does to a web process's kept connection."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"] or None,
                         dbname=db["NAME"], autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_an_event_arriving_on_a_connection_the_database_dropped_is_stored_once(client):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    evt = se.event("customer.created", se.customer(se.new_id("cus")))
    _terminate_our_backend()
    response = se.post(client, evt)
    assert response.status_code == 200, response.content
    assert response.json() == {"received": True}
    assert StripeEvent.objects.filter(stripe_id=evt["id"], status=EventStatus.RECEIVED).count() == 1


def test_the_door_sends_no_health_check_query(client, django_assert_max_num_queries):
    evt = se.event("customer.created", se.customer(se.new_id("cus")))
    connection.ensure_connection()
    with django_assert_max_num_queries(1) as captured:  # the INSERT alone
        assert se.post(client, evt).status_code == 200
    assert "INSERT" in captured.captured_queries[0]["sql"]
