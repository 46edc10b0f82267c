"""The embedded stack the way `make run` starts it, under faults, and what it did with every event.

SQLite and the file broker, with web, worker and beat run by ``config.supervise`` from
``Procfile.local``, on a temp data dir and a free port. A steady stream of signed Stripe events
goes through the webhook door while the worker is SIGKILLed and unreadable message files are
dropped into the queue folder; the counts are read straight from the SQLite file (read-only), so
the process that counts needs no Django. ``tests/test_embedded_stack.py`` runs it for a minute;
the bench's ``soak`` part for as long as it is asked to.
"""

import os
import re
import secrets
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.infra import BIN, ROOT, free_port
from demo.stripe_events import body, customer, event, sign, subscription

PROCESSES = ("web", "worker", "events", "beat")
# The webhook secret of the stack this module starts (its own install: nothing real verifies with it).
SECRET = "whsec_embedded_stack_" + secrets.token_hex(16)
# Everything that could point a child at another database, broker, settings module or real tool.
FOREIGN = ("DATABASE_URL", "REDIS_URL", "DJANGO_", "DEBUG", "CELERY_", "STRIPE_", "SYNC_", "HUBSPOT_",
           "ZENDESK_", "INTERCOM_", "CIRCLE_", "KIT_", "SWITCHBOARD_", "PORT", "LOG_LEVEL", "ACCESS_LOG")
# Repairs within seconds instead of minutes, so a fault's whole story fits in a short run: a lost
# event wake-up is re-sent after 5 s (not 60), a dead worker's job lease runs out after 15 s (not
# 120; the task time limit stays under it), the sweepers run every 3 s.
FAST = {
    "SYNC_SWEEP_INTERVAL": "3", "SYNC_REDELIVER_AFTER": "10", "SYNC_LEASE_SECONDS": "15",
    "CELERY_TASK_SOFT_TIME_LIMIT": "8", "CELERY_TASK_TIME_LIMIT": "10",
    "STRIPE_EVENT_SWEEP_SECONDS": "3", "STRIPE_EVENT_SWEEP_GRACE_SECONDS": "5",
}
STARTED = re.compile(r"^supervise\s*\| (\w+) (?:started|restarted) \(pid (\d+)", re.MULTILINE)


def embedded_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(FOREIGN)}
    return {
        **env, **FAST,
        "DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_ENV": "development",
        "SWITCHBOARD_DATA_DIR": str(data_dir), "PORT": str(port), "PATH": f"{BIN}:{env.get('PATH', '')}",
        "STRIPE_WEBHOOK_SECRETS": SECRET, "STRIPE_WEBHOOK_RATE_LIMIT": "1000000/m",
        "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
    }


def processes_using(marker: str) -> list[int]:
    """Processes whose environment mentions ``marker`` (a data dir): whatever the stack started."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and proc.name != str(os.getpid()):
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_until(check, what: str, timeout: float, every: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


class EmbeddedStack:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.env = embedded_env(data_dir, self.port)
        self.log = data_dir / "supervise.log"
        self.proc: subprocess.Popen | None = None
        self.jobs_running_at_kills: list[int] = []  # per SIGKILL of the worker: the jobs it held then

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "switchboard.sqlite3"

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"

    def start(self, timeout: float = 120) -> None:
        """Migrate and collect static files (what `make run` does first), then supervise the three processes."""
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            done = subprocess.run([sys.executable, "manage.py", *command, "-v0"], cwd=ROOT, env=self.env,
                                  capture_output=True, text=True, timeout=300)
            if done.returncode:
                raise RuntimeError(f"manage.py {command[0]} failed:\n{done.stdout}{done.stderr}")
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "config.supervise", "Procfile.local"], cwd=ROOT, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.ready, "the stack's /readyz to answer 200", timeout, every=1)

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the supervisor exited:\n{self.output()[-3000:]}")
        try:
            return requests.get(f"{self.url}/readyz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self) -> dict[str, list[int]]:
        """Every pid each process has had, in order (a restart adds one)."""
        seen: dict[str, list[int]] = {name: [] for name in PROCESSES}
        for name, pid in STARTED.findall(self.output()):
            seen.setdefault(name, []).append(int(pid))
        return seen

    def kill_worker(self, timeout: float = 90) -> int:
        """SIGKILL the worker's main process (its pool is left to the supervisor); wait for its successor.
        The jobs it held (claimed, running) are counted at once, before a successor can claim any: a
        batch per pool process, each try of which comes back as lost once its lease runs out."""
        before = self.pids()["worker"]
        os.kill(before[-1], signal.SIGKILL)
        with read_only(self.db_path) as db:
            self.jobs_running_at_kills.append(
                db.execute("SELECT count(*) FROM sync_syncjob WHERE status = 'running'").fetchone()[0])
        wait_until(lambda: len(self.pids()["worker"]) > len(before), "the worker to be restarted", timeout)
        return before[-1]

    def drop_unreadable_messages(self) -> list[str]:
        """An empty wake-up and a garbage one, in the queue folder the worker reads."""
        stamp = int(time.monotonic() * 1000)
        files = {f"{stamp}_{uuid.uuid4()}.events.msg": b"", f"{stamp}_{uuid.uuid4()}.sync.msg": b"\x00{not json"}
        for name, content in files.items():
            (self.broker_dir / name).write_bytes(content)
        return list(files)

    def stop(self, timeout: float = 60) -> list[int]:
        """Ctrl-C to the supervisor. Returns what it left running (killed here, so nothing stays)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        try:
            wait_until(lambda: not self.strays(), "every process of the stack to exit", 15)
        except TimeoutError:
            pass
        left = self.strays()
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        return left

    def strays(self) -> list[int]:
        return processes_using(str(self.data_dir))


@dataclass
class EventStream:
    """Customers signing up at a steady rate: customer.created, then customer.subscription.created,
    each signed and sent to the door from one thread. A refused or failed delivery is sent again
    after a second, as Stripe would."""

    url: str
    per_second: float
    prefix: str = "soak"
    sent: int = 0
    answers: Counter = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "EventStream":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        session, started, n = requests.Session(), time.monotonic(), 0
        while not self._stop.is_set():
            n += 1
            cid = f"cus_{self.prefix}{n:07d}"
            for evt in (event("customer.created", customer(cid, email=f"{self.prefix}{n}@example.com"),
                              event_id=f"evt_{self.prefix}{n:07d}c"),
                        event("customer.subscription.created", subscription(f"sub_{self.prefix}{n:07d}", cid),
                              event_id=f"evt_{self.prefix}{n:07d}s")):
                self._deliver(session, body(evt))
            self._stop.wait(max(0.0, started + n / (self.per_second / 2) - time.monotonic()))

    def _deliver(self, session: requests.Session, raw: bytes) -> None:
        self.sent += 1
        for _ in range(10):
            try:
                status = session.post(f"{self.url}/webhooks/stripe/", data=raw, timeout=10, headers={
                    "Content-Type": "application/json", "Stripe-Signature": sign(raw, SECRET)}).status_code
            except requests.RequestException:
                status = 0
            self.answers[status] += 1
            if status == 200:
                return
            time.sleep(1)


def read_only(db_path: Path) -> closing[sqlite3.Connection]:
    """A read-only connection to the stack's database, closed on leaving the block: the stack
    keeps writing while it is read."""
    return closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30))


def counts(db_path: Path, prefix: str = "soak") -> dict[str, int]:
    """What the stack made of the stream, from its database: events, jobs, attempts, duplicates."""
    events = f"SELECT id FROM billing_stripeevent WHERE stripe_id LIKE 'evt_{prefix}%'"
    jobs = f"SELECT * FROM sync_syncjob WHERE source_event_id IN ({events})"
    with read_only(db_path) as db:
        one = lambda sql: db.execute(sql).fetchone()[0] or 0  # noqa: E731
        # Per job: its tries as recorded, the successful ones, the ones a dead worker lost.
        per_job = (f"SELECT j.id, j.attempts, count(a.id) AS tries, "
                   f"sum(a.outcome = 'ok') AS ok, sum(a.outcome = 'lost') AS lost, "
                   f"sum(a.outcome = 'ok' AND json_extract(a.request_summary, '$.provider') = 'sandbox') AS sandbox, "
                   f"max(CASE WHEN a.outcome = 'ok' THEN a.number END) AS ok_number "
                   f"FROM ({jobs}) j LEFT JOIN sync_syncattempt a ON a.job_id = j.id GROUP BY j.id")
        per_event = (f"SELECT e.id, count(j.id) AS n FROM billing_stripeevent e LEFT JOIN sync_syncjob j "
                     f"ON j.source_event_id = e.id WHERE e.stripe_id LIKE 'evt_{prefix}%s' GROUP BY e.id")
        return {
            "events_stored": one(f"SELECT count(*) FROM ({events})"),
            "events_processed": one(f"SELECT count(*) FROM billing_stripeevent WHERE id IN ({events}) "
                                    f"AND status = 'processed'"),
            # A worker killed mid-event rolls its transaction back: no try is recorded, none may fail.
            "events_with_failed_tries": one(f"SELECT count(*) FROM billing_stripeevent WHERE id IN ({events}) "
                                            f"AND attempts <> 1"),
            "jobs_written": one(f"SELECT count(*) FROM ({jobs})"),
            "jobs_succeeded": one(f"SELECT count(*) FROM ({jobs}) WHERE status = 'succeeded'"),
            "jobs_dead": one(f"SELECT count(*) FROM ({jobs}) WHERE status = 'dead'"),
            "jobs_open": one(f"SELECT count(*) FROM ({jobs}) WHERE status IN ('pending', 'running', 'retrying')"),
            "job_counts_per_subscription": one(f"SELECT count(DISTINCT n) FROM ({per_event})"),
            "subscriptions_without_jobs": one(f"SELECT count(*) FROM ({per_event}) WHERE n = 0"),
            "duplicate_effects": one(f"SELECT sum(max(ok - 1, 0)) FROM ({per_job})"),
            "attempts_lost": one(f"SELECT sum(lost) FROM ({per_job})"),
            # Expected: every try recorded, exactly one ok (sandbox) and it is the last; the others lost.
            "jobs_with_unexpected_attempts": one(
                f"SELECT count(*) FROM ({per_job}) WHERE ok > 0 AND NOT (tries = attempts AND ok = 1 "
                f"AND sandbox = 1 AND ok_number = attempts AND lost = attempts - 1)"),
        }


def settled(c: dict[str, int], sent: int) -> bool:
    return c["events_stored"] == sent == c["events_processed"] and c["jobs_open"] == 0
