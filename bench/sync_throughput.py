"""Throughput of the outbound-job executor against loopback fakes of HubSpot, Zendesk and Kit.

    .venv/bin/python bench/sync_throughput.py [--jobs 600] [--workers 1 2] [--embedded]

For each worker count: a fresh PostgreSQL database, a private redis-server on a
free port, real ``celery worker`` processes (prefork, one process per count),
and the jobs' wake-ups published at once; measures jobs/s from the first
publish until every job has succeeded. Provider rate limits are lifted so the
executor itself is measured (with the published limits HubSpot alone caps at
10 jobs/s). ``--embedded`` measures the default laptop mode instead: a SQLite
file and the file-backed queue. Only talks to 127.0.0.1; drops its database
and stops what it started.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.sync import fakes  # noqa: E402

DB = "switchboard_bench_sync"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc"]
UNLIMITED = {k: "1000000" for k in ("HUBSPOT_RATE_LIMIT", "ZENDESK_RATE_LIMIT_PER_MINUTE", "KIT_RATE_LIMIT_PER_MINUTE")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def environment(redis_port: int | None, hub, zd, kit, data_dir: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    stores = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB}",
              "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"} if redis_port else {}
    return {
        **base, **UNLIMITED, **stores,
        "DJANGO_ENV": "development", "DEBUG": "false", "LOG_LEVEL": "WARNING", "SWITCHBOARD_DATA_DIR": data_dir,
        "HUBSPOT_ACCESS_TOKEN": "test-token", "HUBSPOT_BASE_URL": hub.url,
        "ZENDESK_EMAIL": "agent@example.com", "ZENDESK_API_TOKEN": "test-token", "ZENDESK_BASE_URL": zd.url,
        "KIT_API_KEY": "test-token", "KIT_BASE_URL": kit.url,
    }


def make_jobs(count: int) -> list[int]:
    from customers.models import Customer, ExternalLink
    from sync.models import SyncJob

    jobs = []
    for n in range(count // 3):
        customer = Customer.objects.create(email=f"bench{n}@example.com", name=f"Bench {n}", plan="Pro")
        ExternalLink.objects.create(customer=customer, system="stripe", external_id=f"cus_bench{n:06d}")
        state = {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"}
        jobs += [
            SyncJob(customer=customer, system="crm", action="upsert_contact", idempotency_key=f"b:{n}:crm",
                    payload={**state, "lifecycle_stage": "customer"}),
            SyncJob(customer=customer, system="support", action="create_ticket", idempotency_key=f"b:{n}:tk",
                    payload={**state, "subject": "Payment failed", "priority": "high", "tags": ["billing"]}),
            SyncJob(customer=customer, system="email", action="add_tag", idempotency_key=f"b:{n}:tag",
                    payload={**state, "tag": "customer"}),
        ]
    return [j.pk for j in SyncJob.objects.bulk_create(jobs)]


def run_once(count: int, processes: int, env: dict, data_dir: str, fresh) -> float:
    from customers.models import Customer
    from sync.models import JobStatus, SyncJob
    from sync.services import jobs_enqueue

    Customer.objects.all().delete()  # and with them their links and jobs
    fresh()
    ids = make_jobs(count)
    log = Path(data_dir) / f"worker{processes}.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", f"--concurrency={processes}",
         "-n", f"bench{processes}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: "ready" in log.read_text(), "the worker to start")
        start = time.perf_counter()
        jobs_enqueue(job_ids=ids)
        wait_for(lambda: not SyncJob.objects.exclude(status=JobStatus.SUCCEEDED).exists(), "every job to succeed")
        return len(ids) / (time.perf_counter() - start)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:  # a warm shutdown that hangs must not lose the result
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def reset(*fakes_) -> None:
    for fake in fakes_:
        fake.calls.clear()
        for name in ("contacts", "users", "tickets", "idempotent", "subscribers", "tags", "tagged"):
            value = getattr(fake, name, None)
            if value is not None:
                value.clear()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--embedded", action="store_true", help="SQLite file and file-backed queue")
    args = parser.parse_args()
    hub, zd, kit = fakes.HubSpot().start(), fakes.Zendesk().start(), fakes.Kit().start()
    data_dir = tempfile.mkdtemp(prefix="sb-bench-sync-")
    redis = None
    if not args.embedded:
        redis_port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no", "--dir", data_dir], stdout=subprocess.DEVNULL)
        subprocess.run(PSQL + [f"DROP DATABASE IF EXISTS {DB}"], check=True)
        subprocess.run(PSQL + [f"CREATE DATABASE {DB}"], check=True)
    env = environment(None if args.embedded else redis_port, hub, zd, kit, data_dir)
    stores = "SQLite + file queue" if args.embedded else "PostgreSQL + Redis"
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        os.environ.clear()
        os.environ.update(env)
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        import django

        django.setup()
        for processes in args.workers:
            rate = run_once(args.jobs, processes, env, data_dir, lambda: reset(hub, zd, kit))
            print(f"{processes} worker process(es): {rate:.1f} jobs/s over {args.jobs // 3 * 3} jobs "
                  f"(HubSpot upsert, Zendesk ticket, Kit tag; {stores})")
        print(f"provider effects: {len(hub.contacts)} contacts, {len(zd.tickets)} tickets, {len(kit.tagged)} tags")
    finally:
        from django.db import connections

        connections.close_all()
        if redis is not None:
            redis.terminate()
            redis.wait(10)
            subprocess.run(PSQL + [f"DROP DATABASE IF EXISTS {DB}"], check=False)
        for fake in (hub, zd, kit):
            fake.stop()
        subprocess.run(["rm", "-rf", data_dir], check=False) if not os.environ.get("BENCH_KEEP") else print(data_dir)


if __name__ == "__main__":
    main()
