"""The system under test: its own PostgreSQL database, Redis, loopback provider fakes, and the
gunicorn / celery worker / celery beat processes, all configured through the environment the way
production is (Procfile), only pointed at 127.0.0.1.
"""

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import infra
from tests.sync import fakes

# The fakes impose no rate limit, so the published limits would only measure our waiting.
UNLIMITED = "1000000"


class Stack:
    def __init__(self, *, quick: bool, db_name: str, redis_db: int) -> None:
        self.quick = quick
        self.tmp = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
        self.db_name = db_name
        self.redis: infra.Redis | None = None
        self.fakes: dict[str, fakes.Fake] = {}
        self.web_port = 0
        self.web: infra.Proc | None = None
        self.beat: infra.Proc | None = None
        self.redis_db = redis_db
        self.env: dict[str, str] = {}
        self.secret = "whsec_bench_" + secrets.token_hex(16)  # the webhook secret of this run's install

    # --- start and stop --------------------------------------------------------------
    def start(self) -> None:
        """Database, Redis, fakes, environment, migrations; then Django in this process."""
        self.redis = infra.Redis(private=self.quick, shared_db=self.redis_db, log_dir=self.tmp)
        database_url = infra.database_create(self.db_name)
        for fake in (fakes.HubSpot(), fakes.Zendesk(), fakes.Circle(), fakes.Kit()):
            self.fakes[fake.name] = fake.start()
        self.env = {**os.environ, **self._settings(database_url)}
        os.environ.update(self._settings(database_url))
        # Pages render with hashed static names outside the test suite: collect them as `make run` does.
        for command in ("migrate", "collectstatic"):
            step = infra.Proc(command, [sys.executable, "manage.py", command, "--noinput", "-v0"], self.env, self.tmp)
            step.popen.wait(300)
            if step.popen.returncode != 0:
                raise RuntimeError(f"{command} failed:\n{step.tail()}")
            step.stop()
        import django

        django.setup()

    def stop(self) -> None:
        infra.stop_all()
        for fake in self.fakes.values():
            fake.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may never have been set up
            pass
        if self.redis:
            self.redis.close()
        infra.database_drop(self.db_name)

    def _settings(self, database_url: str) -> dict[str, str]:
        f = {name: fake.url for name, fake in self.fakes.items()}
        return {
            # A test runner's environment (pytest-django) must not leak into the bench's processes.
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_ENV": "development",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis.url,
            "SWITCHBOARD_DATA_DIR": str(self.tmp / "var"),
            "STRIPE_WEBHOOK_SECRETS": self.secret,
            "STRIPE_WEBHOOK_RATE_LIMIT": "100000000/m",
            "STRIPE_API_KEY": "",
            "HUBSPOT_ACCESS_TOKEN": "test-token", "HUBSPOT_BASE_URL": f["hubspot"],
            "ZENDESK_EMAIL": "agent@example.com", "ZENDESK_API_TOKEN": "test-token", "ZENDESK_BASE_URL": f["zendesk"],
            "CIRCLE_API_TOKEN": "test-token", "CIRCLE_BASE_URL": f["circle"],
            "KIT_API_KEY": "test-token", "KIT_BASE_URL": f["kit"],
            "HUBSPOT_RATE_LIMIT": UNLIMITED, "ZENDESK_RATE_LIMIT_PER_MINUTE": UNLIMITED,
            "CIRCLE_RATE_LIMIT": UNLIMITED, "KIT_RATE_LIMIT_PER_MINUTE": UNLIMITED,
            "ALERT_NO_WEBHOOK_MINUTES": "0",
            "PYTHONUNBUFFERED": "1",
            # Quick mode only: a smoke test should not wait out the 20 s sweep of a bulk retry.
            **({"SYNC_SWEEP_INTERVAL": "5"} if self.quick else {}),
        }

    # --- processes -------------------------------------------------------------------------
    def start_web(self) -> str:
        """gunicorn with the production settings file (workers and threads from config/gunicorn.py)."""
        if self.web and self.web.alive():
            return self.url
        self.web_port = infra.free_port()
        self.web = infra.Proc("web", [str(infra.BIN / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.py",
                                      "--bind", f"127.0.0.1:{self.web_port}"], self.env, self.tmp)
        infra.wait_for(self._healthy, "gunicorn to answer /healthz", timeout=60)
        # One worker answering is not all of them booted: keep every worker busy for a moment.
        subprocess.run(["wrk", "-t1", "-c20", "-d3s", self.url + "/healthz"], capture_output=True, timeout=60)
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def _healthy(self) -> bool:
        import requests

        if self.web and not self.web.alive():
            raise RuntimeError(f"gunicorn exited:\n{self.web.tail()}")
        try:
            return requests.get(self.url + "/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def start_worker(self, concurrency: int, *, queues: str = "", env: dict[str, str] | None = None) -> infra.Proc:
        """One ``celery worker`` with ``concurrency`` prefork processes (the Procfile's shape): every
        queue, or only ``queues`` (the Procfile's ``events`` worker); ``env`` adds to the settings."""
        label = f"{queues or 'worker'}-{concurrency}"
        name = f"bench-{label}-{time.monotonic_ns()}@localhost"
        worker = infra.Proc(label, [
            str(infra.BIN / "celery"), "-A", "config", "worker", "--loglevel=WARNING", f"--concurrency={concurrency}",
            f"--hostname={name}", "--without-gossip", "--without-mingle", *([f"--queues={queues}"] if queues else []),
        ], {**self.env, **(env or {})}, self.tmp)
        from config.celery import app

        def ready() -> bool:
            if not worker.alive():
                raise RuntimeError(f"celery worker exited:\n{worker.tail()}")
            return bool(app.control.ping(destination=[name], timeout=0.5))

        infra.wait_for(ready, "the celery worker to answer a ping", timeout=90)
        return worker

    def start_beat(self) -> infra.Proc:
        if self.beat and self.beat.alive():
            return self.beat
        (self.tmp / "var").mkdir(exist_ok=True)
        self.beat = infra.Proc("beat", [
            str(infra.BIN / "celery"), "-A", "config", "beat", "--loglevel=WARNING",
            f"--schedule={self.tmp / 'var' / 'celerybeat-schedule'}",
        ], self.env, self.tmp)
        return self.beat
