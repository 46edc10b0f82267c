"""Real processes: celery beat killed under a running worker, and two workers standing in at once.

Each test runs twice: embedded (its own SQLite file and file broker, as `make run` does) and,
when the suite runs on PostgreSQL, against the test database with a private redis-server.
Intervals are shortened through the environment (evaluations every 0.25 s, a process silent
for 2 s is missing), so a test takes seconds; the times measured are printed.
"""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.sync import fakes
from tests.sync.servers import RedisServer, stop_group, wait_for

pytestmark = pytest.mark.process
ROOT = Path(settings.BASE_DIR)
FAST = {"ALERT_EVALUATE_SECONDS": "0.25", "HEARTBEAT_STALE_SECONDS": "2", "SYNC_SWEEP_INTERVAL": "1",
        "ALERT_NO_WEBHOOK_MINUTES": "0", "ALERT_EMAILS": ""}
SCHEDULER_MISSING = "[Switchboard] Incident opened: The scheduler (celery beat)"


class Receiver:
    """A Slack-compatible incoming webhook on 127.0.0.1 that keeps every text with its arrival time.
    ``delay`` holds each answer, so a second sender has time to try the same message."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[tuple[float, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.messages.append((time.time(), json.loads(body)["text"]))
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts"

    def texts(self, starting: str = "") -> list[str]:
        return [text for _, text in self.messages if text.startswith(starting)]

    def first(self, starting: str) -> float:
        return next(at for at, text in self.messages if text.startswith(starting))

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Stack:
    """Worker and beat processes sharing one database and broker."""

    def __init__(self, env: dict, tmp: Path, query) -> None:
        self.env, self.tmp, self.query, self.procs = env, tmp, query, {}

    def _start(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", *args], cwd=ROOT, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[name] = proc
        return proc

    def worker(self, name: str) -> subprocess.Popen:
        return self._start(name, ["worker", "--pool=solo", "-n", f"{name}@%h", "--without-gossip",
                                  "--without-mingle", "--without-heartbeat", "--loglevel=INFO"])

    def beat(self) -> subprocess.Popen:
        return self._start("beat", ["beat", "--loglevel=INFO", f"--schedule={self.tmp / 'celerybeat-schedule'}"])

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def ready(self, name: str) -> None:
        wait_for(lambda: " ready." in self.log(name), f"{name} to start")

    def beats(self, process: str) -> bool:
        return bool(self.query("SELECT 1 FROM monitoring_heartbeat WHERE name = %s", [process]))

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def run_script(self, code: str) -> str:
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                              env={**self.env, "DJANGO_SETTINGS_MODULE": "config.settings"})
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def stop_all(self) -> None:
        for proc in self.procs.values():
            stop_group(proc)


def _base_env() -> dict:
    drop = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "HUBSPOT_", "ZENDESK_", "KIT_", "CIRCLE_",
            "INTERCOM_", "ALERT_", "HEARTBEAT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(DJANGO_ENV="test", CELERY_TASK_ALWAYS_EAGER="false", PYTHONUNBUFFERED="1", **FAST)
    return env


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> Path:
    """One migrated embedded database per module; each test gets a copy."""
    folder = tmp_path_factory.mktemp("embedded")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, check=True, capture_output=True,
                   env={**_base_env(), "SWITCHBOARD_DATA_DIR": str(folder)}, timeout=300)
    return folder / "switchboard.sqlite3"


@pytest.fixture(params=["embedded", pytest.param("postgres", marks=[
    pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis])])
def make_stack(request, tmp_path):
    stacks = []

    def make(receiver: Receiver) -> Stack:
        env = {**_base_env(), "SWITCHBOARD_DATA_DIR": str(tmp_path), "ALERT_SLACK_WEBHOOK_URL": receiver.url}
        if request.param == "embedded":
            shutil.copy(request.getfixturevalue("migrated_sqlite"), tmp_path / "switchboard.sqlite3")

            def query(sql: str, params: list) -> list:
                with sqlite3.connect(tmp_path / "switchboard.sqlite3", timeout=10) as db:
                    return db.execute(sql.replace("%s", "?"), params).fetchall()
        else:
            if connection.vendor != "postgresql" or not shutil.which("redis-server"):
                print("skipping: needs the suite on PostgreSQL and a redis-server binary")
                pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...) and redis-server")
            redis = RedisServer(tmp_path)
            redis.start()
            request.addfinalizer(redis.stop)
            db = connection.settings_dict
            env.update(REDIS_URL=redis.url, DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@"
                                                         f"{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}")

            def query(sql: str, params: list) -> list:
                with connection.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.fetchall()
        stack = Stack(env, tmp_path, query)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop_all()


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.stop()


DEAD_JOB = """
import django
django.setup()
from django.utils import timezone
from customers.models import Customer
from sync.models import SyncJob
customer = Customer.objects.create(email="ada@example.com", name="Ada")
job = SyncJob.objects.create(customer=customer, system="crm", action="upsert_contact", idempotency_key="test:dies",
                             payload={"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"})
print(job.pk)
"""


def test_a_job_dying_and_then_the_scheduler_dying_each_reach_a_person_once(make_stack, receiver):
    crm = fakes.HubSpot().start()  # our token is wrong: it answers 401, the job dies (auth_failed)
    stack = make_stack(receiver)
    stack.env.update(HUBSPOT_ACCESS_TOKEN="revoked-token", HUBSPOT_BASE_URL=crm.url)
    try:
        stack.beat()
        wait_for(lambda: stack.beats("scheduler"), "the scheduler's first heartbeat")
        stack.worker("steady")
        stack.ready("steady")
        wait_for(lambda: stack.beats("worker"), "the worker's watchdog")

        job_id = int(stack.run_script(DEAD_JOB))
        wait_for(lambda: receiver.texts("[Switchboard] Incident opened: 1 outbound job dead"), "the dead-job message")
        (finished,) = stack.query("SELECT finished_at FROM sync_syncjob WHERE id = %s", [job_id])[0]
        assert receiver.texts(SCHEDULER_MISSING) == []

        stack.kill("beat")
        killed = time.time()
        wait_for(lambda: receiver.texts(SCHEDULER_MISSING), "the scheduler-missing message")
        told = receiver.first(SCHEDULER_MISSING)
        time.sleep(2)  # eight more watchdog looks: still one message
    finally:
        crm.stop()
    assert len(receiver.texts(SCHEDULER_MISSING)) == 1
    assert len(receiver.texts("[Switchboard] Incident opened: 1 outbound job dead")) == 1
    finished_at = finished.timestamp() if hasattr(finished, "timestamp") else _sqlite_time(finished)
    print(f"new dead job -> message {receiver.first('[Switchboard] Incident opened: 1 outbound') - finished_at:.2f} s; "
          f"scheduler killed -> message {told - killed:.2f} s "
          f"(ALERT_EVALUATE_SECONDS={FAST['ALERT_EVALUATE_SECONDS']}, HEARTBEAT_STALE_SECONDS={FAST['HEARTBEAT_STALE_SECONDS']})")


def _sqlite_time(value: str) -> float:
    from datetime import datetime, timezone

    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc).timestamp()


def test_two_workers_standing_in_for_a_dead_scheduler_at_once_send_one_message(make_stack):
    slow = Receiver(delay=0.5)  # a slow channel: the other worker evaluates while a message is on its way
    stack = make_stack(slow)
    try:
        stack.worker("first")
        stack.worker("second")
        stack.ready("first")
        stack.ready("second")
        wait_for(lambda: slow.texts(SCHEDULER_MISSING), "the scheduler-missing message")
        time.sleep(3)  # a dozen more looks by each worker
        logs = stack.log("first") + stack.log("second")
    finally:
        slow.stop()
    assert logs.count("monitoring.scheduler_silent") == 2  # both stood in
    assert len(slow.texts(SCHEDULER_MISSING)) == 1
    rows = stack.query("SELECT notified_open FROM monitoring_incident WHERE rule = %s AND key = %s",
                       ["heartbeat", "scheduler"])
    assert len(rows) == 1 and bool(rows[0][0])
