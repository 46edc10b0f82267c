"""Redis stops for 30 seconds under a steady stream of Stripe deliveries; nobody restarts anything.

Real processes as the Procfile runs them: gunicorn with Django, a prefork Celery worker and
beat, sharing the PostgreSQL test database and a private redis-server. The sender behaves like
Stripe: a 503 is delivered again later. Every delivery must end in 200, every event must be
processed once Redis is back, and the worker and beat must still be the processes we started.
"""

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection

from billing.models import EventStatus, StripeEvent
from tests import stripe_events as se
from tests.sync.servers import free_port, wait_for

pytestmark = [pytest.mark.process, pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)
RATE = 8  # deliveries per second
BEFORE, OUTAGE, AFTER = 8.0, 30.0, 8.0


class Stack:
    """gunicorn, a Celery worker and beat, started like the Procfile's web, worker and beat."""

    def __init__(self, env: dict, tmp: Path):
        self.env, self.tmp, self.procs = env, tmp, {}

    def start(self, name: str, argv: list[str], ready: str) -> None:
        log = open(self.tmp / f"{name}.log", "w")
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_for(lambda: ready in self.log(name), f"{name} to start", timeout=90)

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def alive(self) -> dict[str, bool]:
        return {name: proc.poll() is None for name, proc in self.procs.items()}

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


@pytest.fixture
def stack(redis_server, tmp_path):
    db = connection.settings_dict
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "ZENDESK_", "KIT_", "CIRCLE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings", DJANGO_ENV="test", CELERY_TASK_ALWAYS_EAGER="false",
        REDIS_URL=redis_server.url, STRIPE_WEBHOOK_SECRETS=se.SECRET, PYTHONUNBUFFERED="1",
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        SWITCHBOARD_DATA_DIR=str(tmp_path), PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        PORT=str(port), WEB_CONCURRENCY="2", SYNC_SWEEP_INTERVAL="5",
    )
    running = Stack(env, tmp_path)
    running.url = f"http://127.0.0.1:{port}"
    try:
        running.start("web", [sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "config/gunicorn.py",
                              "--bind", f"127.0.0.1:{port}"], "Booting worker")
        running.start("worker", [sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=2",
                                 "--loglevel=INFO", "-n", "outage@%h"], "ready")
        running.start("beat", [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO",
                               f"--schedule={tmp_path / 'celerybeat-schedule'}"], "beat: Starting")
        wait_for(lambda: _get(running.url + "/readyz") == 200, "the web server to be ready", timeout=60)
        yield running
    finally:
        running.stop()


def _get(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return None


class Sender:
    """Stripe's side: a steady stream of signed events; a 503 (or no answer) is sent again later."""

    def __init__(self, url: str):
        self.url, self.session = url + "/webhooks/stripe/", requests.Session()
        self.answers: list[tuple[float, int, float]] = []  # (sent at, status, seconds)
        self.sent_ids: list[str] = []
        self.retry: list[bytes] = []

    def post(self, raw: bytes) -> int:
        started = time.monotonic()
        try:
            status = self.session.post(self.url, data=raw, timeout=30, headers={
                "Content-Type": "application/json", "Stripe-Signature": se.sign(raw)}).status_code
        except requests.RequestException:
            status = 0
        self.answers.append((started, status, time.monotonic() - started))
        return status

    def run(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            tick = time.monotonic()
            evt = se.event("customer.created", se.customer(se.new_id("cus")))
            self.sent_ids.append(evt["id"])
            raw = se.body(evt)
            if self.post(raw) != 200:
                self.retry.append(raw)
            time.sleep(max(0.0, 1 / RATE - (time.monotonic() - tick)))

    def redeliver(self, rounds: int = 10) -> None:
        for _ in range(rounds):
            pending, self.retry = self.retry, []
            self.retry = [raw for raw in pending if self.post(raw) != 200]
            if not self.retry:
                return
            time.sleep(2)


def test_a_30_second_redis_outage_costs_no_delivery_and_no_event(stack, redis_server):
    sender = Sender(stack.url)
    stream = threading.Thread(target=sender.run, args=(BEFORE + OUTAGE + AFTER,))
    stream.start()
    time.sleep(BEFORE)
    outage_start = time.monotonic()
    redis_server.stop()
    time.sleep(OUTAGE)
    outage_end = time.monotonic()
    redis_server.start()
    stream.join()
    sender.redeliver()

    statuses = {status for _, status, _ in sender.answers}
    assert statuses <= {200, 503}, f"answers other than 200 or a retryable 503: {statuses}"
    assert not sender.retry, f"{len(sender.retry)} deliveries never got a 200"
    during = [seconds for at, _, seconds in sender.answers if outage_start <= at < outage_end]
    print(f"\ndoor during the outage: {len(during)} deliveries, "
          f"p50 {statistics.median(during) * 1000:.1f} ms, max {max(during) * 1000:.1f} ms, "
          f"503s {sum(1 for _, s, _ in sender.answers if s == 503)}")
    assert len(during) >= OUTAGE * RATE / 2

    stored = StripeEvent.objects.filter(stripe_id__in=sender.sent_ids)
    assert stored.count() == len(sender.sent_ids)
    # No one restarts anything: the sweepers in beat and the worker repair the lost wake-ups.
    wait_for(lambda: not stored.exclude(status=EventStatus.PROCESSED).exists(), "every event to be processed",
             timeout=240)
    assert stack.alive() == {"web": True, "worker": True, "beat": True}, stack.log("worker")[-3000:]
    assert "Unrecoverable error" not in stack.log("worker")
