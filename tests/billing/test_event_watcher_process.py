"""A real events worker applies what the door stored without any message from the door: its watcher
claims the new rows and sends them to it in batches, each event applied exactly once. PostgreSQL (the
worker shares the test database) and a private redis-server."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from billing.models import EventStatus, StripeEvent
from tests import stripe_events as se
from tests.factories import StripeEventFactory
from tests.sync.servers import RedisServer, stop_group, wait_for

pytestmark = [pytest.mark.process, pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)



@pytest.fixture
def events_worker(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...): the worker shares the test database")
    redis = RedisServer(tmp_path)
    redis.start()
    db = connection.settings_dict
    env = {
        **os.environ, "DJANGO_ENV": "test", "CELERY_TASK_ALWAYS_EAGER": "false", "REDIS_URL": redis.url,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "SWITCHBOARD_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1", "STRIPE_EVENT_BATCH_SIZE": "4",
    }
    log = tmp_path / "events.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--queues=events",
         "-n", "events-test@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: "ready" in log.read_text(), "the events worker to start")
    yield log
    stop_group(proc)
    redis.stop()


def test_a_live_events_worker_applies_stored_events_once_each_in_batches(events_worker):
    payloads = [se.event("customer.created", se.customer(se.new_id("cus"))) for _ in range(10)]
    # Exactly the rows the door writes (received, no wake-up sent), visible to the watcher all at once.
    with transaction.atomic():
        for payload in payloads:
            StripeEventFactory(stripe_id=payload["id"], type=payload["type"], payload=payload,
                               status=EventStatus.RECEIVED)
    events = StripeEvent.objects.filter(stripe_id__in=[p["id"] for p in payloads])
    wait_for(lambda: not events.exclude(status=EventStatus.PROCESSED).exists(), "every event to be applied",
             timeout=60)
    assert set(events.values_list("attempts", flat=True)) == {1}
    assert events.exclude(woken_at=None).count() == 10
    log = events_worker.read_text()
    received = [line for line in log.splitlines() if "Task billing.process_event[" in line and "received" in line]
    assert len(received) == 3, log[-3000:]  # batches of 4, 4 and 2: not one message per event
    # The watcher counts the worker's pool as Celery sized it: one task at a time for the solo pool.
    started = [line for line in log.splitlines() if "stripe_event.watcher_started" in line]
    assert len(started) == 1 and "processes=1" in started[0], log[-3000:]
