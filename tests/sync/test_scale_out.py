"""Two worker machines on one PostgreSQL and one Redis: each job runs once, and both do work.

Two separate ``celery worker`` processes with their own hostnames, as two machines would run
them, drain a few thousand desk tickets. Every batch wake-up is published twice, so both
machines race for the same rows; the fake desk counts its ticket creations per idempotency key.
"""

import re
import subprocess
import sys
from collections import Counter

import pytest
from celery import Celery

from customers.models import Customer
from sync.models import JobStatus, SyncAttempt, SyncJob
from sync.services.outbox import JOBS_PER_BATCH
from tests.sync import fakes
from tests.sync.servers import stop_group, wait_for
from tests.sync.test_processes import ROOT, process_env  # noqa: F401 - the fixture, shared

pytestmark = [pytest.mark.process, pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.django_db(transaction=True)]
JOBS = 2000
STATE = {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"}


class CountingDesk(fakes.Zendesk):
    """Zendesk that counts every ticket creation it is asked for, per idempotency key (a replay
    it answers from its idempotency store counts too: the question is how often we asked)."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.asked: Counter = Counter()

    def create_ticket(self, request):
        self.asked[request["headers"].get("Idempotency-Key")] += 1
        return super().create_ticket(request)


def _tickets(count: int) -> list[int]:
    customers = Customer.objects.bulk_create(
        [Customer(email=f"scale{n}@example.com", name=f"Scale {n}", plan="Pro") for n in range(count)])
    jobs = SyncJob.objects.bulk_create([
        SyncJob(customer=customer, system="support", action="create_ticket", idempotency_key=f"scale:{n}",
                payload={**STATE, "subject": "Payment failed", "priority": "high", "tags": ["billing"]})
        for n, customer in enumerate(customers)
    ])
    return [job.pk for job in jobs]


def _machine(env: dict, tmp, host: str) -> subprocess.Popen:
    """One machine's worker group: its own ``celery worker`` with two processes and its own hostname."""
    log = open(tmp / f"{host}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=2",
         "-n", f"jobs@{host}", "-Q", "sync", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    wait_for(lambda: "ready" in (tmp / f"{host}.log").read_text(), f"the worker of {host} to start")
    return proc


def _jobs_done_by(log: str) -> set[int]:
    return {int(n) for n in re.findall(r"job_id=(\d+) outcome=succeeded", log)}


def _done_by_host(tmp_path) -> dict[str, set[int]]:
    return {host: _jobs_done_by((tmp_path / f"{host}.log").read_text()) for host in ("machine-a", "machine-b")}


def test_two_worker_machines_share_the_jobs_and_none_runs_twice(process_env, tmp_path, redis_server):  # noqa: F811
    desk = CountingDesk().start()
    process_env.update(ZENDESK_EMAIL="agent@example.com", ZENDESK_API_TOKEN="test-token", ZENDESK_BASE_URL=desk.url,
                       ZENDESK_RATE_LIMIT_PER_MINUTE="1000000", LOG_LEVEL="INFO")
    ids = _tickets(JOBS)
    machines = []
    try:
        for host in ("machine-a", "machine-b"):
            machines.append(_machine(process_env, tmp_path, host))
        broker = Celery(broker=redis_server.url, set_as_current=False)
        with broker.connection_for_write() as connection:
            for start in range(0, len(ids), JOBS_PER_BATCH):
                batch = ids[start:start + JOBS_PER_BATCH]
                for _ in range(2):  # a duplicate wake-up for every batch: both machines go for the same rows
                    broker.send_task("sync.run_jobs", args=["support", batch], queue="sync", connection=connection)
        wait_for(lambda: not SyncJob.objects.exclude(status=JobStatus.SUCCEEDED).exists(), "every job to succeed",
                 timeout=300)
        # A job's line is logged just after its batch commits: stopping the machines at once could cut
        # off the last batch's lines (the stop reaches the pool's processes too).
        wait_for(lambda: len(set().union(*_done_by_host(tmp_path).values())) >= len(ids),
                 "every job's line in the machines' logs", timeout=30)
    finally:
        for machine in machines:
            stop_group(machine)
        desk.stop()
    assert len(desk.asked) == JOBS and set(desk.asked.values()) == {1}  # each key asked for exactly once
    assert len(desk.tickets) == JOBS
    assert SyncAttempt.objects.count() == JOBS and not SyncJob.objects.exclude(attempts=1).exists()
    done = _done_by_host(tmp_path)
    assert done["machine-a"] and done["machine-b"], {host: len(jobs) for host, jobs in done.items()}
    assert not done["machine-a"] & done["machine-b"]
    assert done["machine-a"] | done["machine-b"] == set(ids)
