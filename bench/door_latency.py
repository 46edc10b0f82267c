"""Single-request latency of the Stripe webhook door: gunicorn on PostgreSQL + Redis, one request at a time.

    .venv/bin/python bench/door_latency.py [--requests 500]

Only talks to 127.0.0.1; starts and stops its own server and drops its database.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.infra import Proc, database_create, database_drop, free_port, port_open, wait_for  # noqa: E402
from bench.stats import percentile  # noqa: E402
from demo.stripe_events import customer, event, sign  # noqa: E402

DB = "switchboard_bench_door"
SECRET = "whsec_bench_" + secrets.token_hex(16)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_create(DB),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
        "STRIPE_WEBHOOK_SECRETS": SECRET,
        "STRIPE_WEBHOOK_RATE_LIMIT": "1000000/m",
        "DEBUG": "false",
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    logs = Path(tempfile.mkdtemp(prefix="sb-bench-door-"))
    server = Proc("web", [str(Path(python).parent / "gunicorn"), "config.wsgi", "--config", "config/gunicorn.py",
                          "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "1",
                          "--access-logfile", "/dev/null"], env, logs)
    try:
        url = f"http://127.0.0.1:{port}/webhooks/stripe/"
        session = requests.Session()
        wait_for(lambda: port_open(port), "gunicorn to listen")
        timings = []
        for i in range(args.requests + 50):
            body = json.dumps(event("customer.created", customer(f"cus_bench{i:06d}"))).encode()
            headers = {"Stripe-Signature": sign(body, SECRET), "Content-Type": "application/json"}
            start = time.perf_counter()
            response = session.post(url, data=body, headers=headers, timeout=10)
            elapsed = (time.perf_counter() - start) * 1000
            assert response.status_code == 200, response.text
            if i >= 50:  # warm-up excluded
                timings.append(elapsed)
        print(f"door latency over {len(timings)} sequential requests: median {percentile(timings, 50):.2f} ms, "
              f"p95 {percentile(timings, 95):.2f} ms, p99 {percentile(timings, 99):.2f} ms")
    finally:
        server.stop(30)
        database_drop(DB)
        shutil.rmtree(logs, ignore_errors=True)


if __name__ == "__main__":
    main()
