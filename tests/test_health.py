import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.logfilters import ProbeAnswers
from tests import stripe_events as se

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_the_database_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": True}


@pytest.mark.django_db
def test_readyz_stays_ok_and_the_door_stores_events_with_the_broker_down_and_no_worker(
    client, broker_down, settings, django_capture_on_commit_callbacks
):
    from billing.models import EventStatus, StripeEvent
    from config.celery import app
    from core.outages import BROKER

    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    app.conf.task_always_eager = False  # publish for real, to the broker that is down
    event = se.event("customer.created", se.customer("cus_ready1"))
    try:
        assert client.get("/readyz").status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            response = se.post(client, event)
        broker_tried = BROKER.down  # the door sends no wake-up: a worker's watcher finds the row
    finally:
        app.conf.task_always_eager = True
        BROKER.answered()
    assert response.status_code == 200, response.content
    assert StripeEvent.objects.get(stripe_id=event["id"]).status == EventStatus.RECEIVED
    assert not broker_tried
    assert client.get("/readyz").status_code == 200
    deep = client.get("/healthz/deep")
    assert deep.status_code == 503
    assert deep.json()["down"] == ["broker", "scheduler", "worker"]


def test_deep_health_is_ok_when_database_broker_worker_and_scheduler_answer(client, heartbeats):
    response = client.get("/healthz/deep")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": True, "broker": True, "worker": True, "scheduler": True}


def test_deep_health_counts_a_worker_that_stopped_taking_jobs_as_down(client, heartbeats, settings):
    import time_machine
    from datetime import timedelta

    from django.utils import timezone

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 5)):
        from monitoring.heartbeats import heartbeat_record

        heartbeat_record(name="scheduler")  # the scheduler still ticks; the worker went quiet
        response = client.get("/healthz/deep")
    assert response.status_code == 503
    assert response.json()["down"] == ["worker"]


def test_deep_health_names_the_broker_when_it_is_down(client, heartbeats, broker_down):
    response = client.get("/healthz/deep")
    assert response.status_code == 503
    assert json.loads(response.content)["down"] == ["broker"]


def test_readyz_names_the_database_when_it_is_down():
    # A real process whose database does not answer (nothing listens on port 1).
    code = (
        "import django; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/readyz');"
        "print(r.status_code, r.content.decode())"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE="config.test_settings", DATABASE_URL="postgres://postgres@127.0.0.1:1/none")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    status, _, body = result.stdout.strip().partition(" ")
    assert status == "503", result.stdout + result.stderr
    assert json.loads(body)["down"] == ["database"]


def _shown(record) -> bool:
    """Whether the console/JSON handler configured in settings.LOGGING would write ``record``."""
    handlers = [h for h in logging.getLogger().handlers if any(isinstance(f, ProbeAnswers) for f in h.filters)]
    assert handlers, "settings.LOGGING gives the root handler the probe filter"
    return all(f.filter(record) for f in handlers[0].filters)


@pytest.mark.django_db
def test_a_probe_answering_503_writes_no_error_line(client, caplog):
    caplog.set_level(logging.INFO)
    assert client.get("/healthz/deep").status_code == 503  # no worker, no scheduler in this test
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "Django and django-structlog log a 503 at ERROR"
    assert not [r for r in errors if _shown(r)]


def test_a_503_anywhere_else_and_a_probe_that_crashes_still_write_their_error_line(rf):
    def record(path: str, status: int) -> logging.LogRecord:
        rec = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Service Unavailable", (), None)
        rec.request, rec.status_code = rf.get(path), status
        return rec

    assert _shown(record("/webhooks/stripe/", 503))
    assert _shown(record("/healthz/deep", 500))
    assert not _shown(record("/healthz/deep", 503))
