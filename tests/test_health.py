import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ok_when_database_broker_worker_and_scheduler_answer(client, heartbeats):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": True, "broker": True, "worker": True, "scheduler": True}


def test_readyz_counts_a_worker_that_stopped_taking_jobs_as_down(client, heartbeats, settings):
    import time_machine
    from datetime import timedelta

    from django.utils import timezone

    with time_machine.travel(timezone.now() + timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS + 5)):
        from monitoring.heartbeats import heartbeat_record

        heartbeat_record(name="scheduler")  # the scheduler still ticks; the worker went quiet
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["worker"]


def test_readyz_names_the_broker_when_it_is_down(client, settings, heartbeats):
    from config.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = original
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["down"] == ["broker"]


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
    assert "database" in json.loads(body)["down"]
