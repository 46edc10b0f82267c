"""Throughput of the outbound-job executor against loopback fakes of HubSpot, Zendesk and Kit.

    .venv/bin/python bench/sync_throughput.py [--jobs 600] [--workers 1 2] [--embedded] [--db-name NAME]

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import infra  # noqa: E402
from tests.sync import fakes  # noqa: E402

DB = "switchboard_bench_sync"
UNLIMITED = {k: "1000000" for k in ("HUBSPOT_RATE_LIMIT", "ZENDESK_RATE_LIMIT_PER_MINUTE", "KIT_RATE_LIMIT_PER_MINUTE")}


def environment(database_url: str, redis_url: str, hub, zd, kit, data_dir: str) -> dict:
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    stores = {"DATABASE_URL": database_url, "REDIS_URL": redis_url} if database_url else {}
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
    worker = infra.Proc(
        f"worker{processes}",
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", f"--concurrency={processes}",
         "-n", f"bench{processes}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        env, Path(data_dir))
    try:
        infra.wait_for(lambda: "ready" in worker.log.read_text(), "the worker to start", timeout=120)
        start = time.perf_counter()
        jobs_enqueue(job_ids=ids)
        infra.wait_for(lambda: not SyncJob.objects.exclude(status=JobStatus.SUCCEEDED).exists(),
                       "every job to succeed", timeout=600)
        return len(ids) / (time.perf_counter() - start)
    finally:
        worker.stop(30)


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
    parser.add_argument("--db-name", default=DB, help=f"PostgreSQL database created and dropped (default {DB})")
    args = parser.parse_args()
    hub, zd, kit = fakes.HubSpot().start(), fakes.Zendesk().start(), fakes.Kit().start()
    data_dir = tempfile.mkdtemp(prefix="sb-bench-sync-")
    redis = None if args.embedded else infra.Redis(private=True, shared_db=0, log_dir=Path(data_dir))
    database_url = "" if args.embedded else infra.database_create(args.db_name)
    env = environment(database_url, redis.url if redis else "", hub, zd, kit, data_dir)
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
            redis.close()
            infra.database_drop(args.db_name)
        for fake in (hub, zd, kit):
            fake.stop()
        subprocess.run(["rm", "-rf", data_dir], check=False) if not os.environ.get("BENCH_KEEP") else print(data_dir)


if __name__ == "__main__":
    main()
