"""Real processes: a Celery worker killed mid-job, and Redis stopped while events arrive.

The worker and the event writer are separate processes sharing the test
database, so these run on PostgreSQL. Each test starts its own redis-server
on a free port and stops only that one.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection

from sync.models import JobStatus, SyncJob
from tests.factories import StripeEventFactory
from tests.sync import fakes
from tests.sync.helpers import customer_with_stripe, make_job
from tests.sync.servers import stop_group, wait_for

pytestmark = [pytest.mark.process, pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def process_env(redis_server, tmp_path):
    """Environment for child processes: the test database, our Redis, the fakes."""
    db = connection.settings_dict
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUBSPOT_", "ZENDESK_", "KIT_", "CIRCLE_"))}
    env.update(
        DJANGO_ENV="test", CELERY_TASK_ALWAYS_EAGER="false", REDIS_URL=redis_server.url,
        DATABASE_URL=f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        SWITCHBOARD_DATA_DIR=str(tmp_path), SYNC_HTTP_READ_TIMEOUT="30", PYTHONUNBUFFERED="1",
    )
    return env


class Workers:
    def __init__(self, env, tmp: Path):
        self.env, self.tmp, self.procs = env, tmp, []

    def start(self, name: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-n", f"{name}@%h",
             "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(proc)
        wait_for(lambda: "ready" in (self.tmp / f"{name}.log").read_text(), f"worker {name} to start")
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop_all(self) -> None:
        for proc in self.procs:
            stop_group(proc)


@pytest.fixture
def workers(process_env, tmp_path):
    pool = Workers(process_env, tmp_path)
    yield pool
    pool.stop_all()


def sweep(env) -> None:
    """What beat does every SYNC_SWEEP_INTERVAL seconds: publish the sweeper task."""
    subprocess.run([sys.executable, "-m", "celery", "-A", "config", "call", "sync.sweep_jobs"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=60)


def sweep_until(env, check, what: str, *, logs: Path, timeout: float = 120) -> None:
    """Sweep as beat does, again and again, until ``check`` holds. One sweep is not the promise:
    a worker that failed to publish a moment ago skips publishing for a few seconds (the broker
    outage memory), and its just-restored connection may take a few retries; beat's next sweep
    repairs both. On a timeout the workers' logs are in the failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sweep(env)
        try:
            wait_for(check, what, timeout=min(3.0, max(0.1, deadline - time.monotonic())))
            return
        except AssertionError:
            continue
    tails = "\n".join(f"--- {log.name} ---\n{log.read_text()[-3000:]}" for log in sorted(logs.glob("*.log")))
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


def hubspot_fake(settings_env: dict, **kwargs) -> fakes.HubSpot:
    hub = fakes.HubSpot(**kwargs).start()
    settings_env.update(HUBSPOT_ACCESS_TOKEN="test-token", HUBSPOT_BASE_URL=hub.url)
    return hub


def test_a_worker_killed_mid_job_is_replaced_by_the_sweeper_with_exactly_one_effect(process_env, workers,
                                                                                    redis_server):
    hub = hubspot_fake(process_env)
    hub.hold.set()  # the first write is applied, then its answer waits: the uncertain moment
    job = make_job("crm", "upsert_contact")
    first = workers.start("doomed")
    Celery(broker=redis_server.url, set_as_current=False).send_task("sync.run_job", args=[job.pk])
    assert hub.holding.wait(60), "the worker never called the provider"
    workers.kill(first)
    hub.release.set()
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING
    # Instead of waiting SYNC_LEASE_SECONDS: the lease is simply over.
    SyncJob.objects.filter(pk=job.pk).update(lease_expires_at=job.lease_expires_at.replace(year=2000))
    workers.start("replacement")
    sweep(process_env)
    wait_for(lambda: SyncJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, "the job to succeed")
    hub.stop()
    assert len(hub.contacts) == 1 and hub.writes() == 2
    assert list(job.attempt_log.values_list("outcome", flat=True)) == ["lost", "ok"]


WRITE_EVENTS = """
import django, sys
django.setup()
from django.db import transaction
from customers.models import Customer
from billing.models import StripeEvent
from billing.consumers import BillingChange, billing_change_dispatch
before = {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"}
after = {**before, "plan": "Team", "mrr": 9900}
for event in StripeEvent.objects.filter(stripe_id__startswith="evt_redis_down"):
    with transaction.atomic():
        billing_change_dispatch(change=BillingChange(customer=event.customer, source_event=event,
                                event_type="customer.subscription.updated", before=before, after=after))
print("written")
"""


def test_events_arriving_while_redis_is_down_all_complete_once_it_is_back(process_env, workers, redis_server):
    hub = hubspot_fake(process_env)
    customers = [customer_with_stripe() for _ in range(10)]
    for n, customer in enumerate(customers):
        StripeEventFactory(customer=customer, stripe_id=f"evt_redis_down_{n}")
    workers.start("steady")
    redis_server.stop()
    env = {**process_env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    written = subprocess.run([sys.executable, "-c", WRITE_EVENTS], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
    assert written.returncode == 0 and "written" in written.stdout, written.stderr[-2000:]
    crm = SyncJob.objects.filter(system="crm")
    assert crm.count() == 10 and not crm.exclude(status=JobStatus.PENDING).exists()
    redis_server.start()
    sweep_until(process_env, lambda: not SyncJob.objects.open().exists(), "every job to complete",
                logs=workers.tmp)
    hub.stop()
    assert set(SyncJob.objects.values_list("status", flat=True)) == {JobStatus.SUCCEEDED}
    assert len(hub.contacts) == 10
    assert {c["properties"]["switchboard_plan"] for c in hub.contacts.values()} == {"Team"}
