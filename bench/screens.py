"""Part 3, the screens: server time and query count of the busiest pages at 1 % and at full size.

Server time is measured in process with Django's test Client (the whole middleware stack, the
view, the template; no network). The baseline is a trivial logged-in page in the same run.
The process is measured as a gunicorn worker runs: what it held before the first request (Django,
the app, and here also the generator's and earlier parts' leftovers) is frozen out of the garbage
collector's reach, as config/gunicorn.py's ``pre_fork`` freezes the preloaded app. Otherwise a full
collection would walk those leftovers inside some request, a cost no worker pays.
"""

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass

from typing import TYPE_CHECKING

from bench import generate
from bench.report import Section
from bench.stats import percentile

if TYPE_CHECKING:  # Django is set up only once the bench database exists
    from django.http import HttpResponse
    from django.test import Client

    from accounts.models import User

SAMPLE = 7  # a customer present at both sizes (the 1 % slice has at least 20)


@dataclass
class Config:
    customers: int
    events_per_customer: int
    jobs_per_customer: int
    dead: int
    repeats: int


FULL = Config(customers=100_000, events_per_customer=10, jobs_per_customer=3, dead=10_000, repeats=30)
QUICK = Config(customers=1_000, events_per_customer=5, jobs_per_customer=3, dead=20, repeats=3)

BASELINE = "trivial logged-in page"
PAGES = [
    (BASELINE, "/accounts/password/"),
    ("home queue", "/"),
    ("customer search", f"/customers/?q=user{SAMPLE}"),
    ("customer 360", f"/customers/sw_bench{SAMPLE:010d}/"),
    ("job list", "/sync/jobs/"),
    ("job list, dead only", "/sync/jobs/?status=dead"),
]


def owner() -> "User":
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import Role

    user, created = User.objects.get_or_create(email="bench-owner@switchboard.test")
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.set([Group.objects.get(name=Role.OWNER)])
    return user


@contextmanager
def as_a_worker():
    """What the process holds now frozen, as a gunicorn worker's start is (``pre_fork``), until the block ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@as_a_worker()
def measure_pages(user: "User", repeats: int) -> dict[str, dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    out = {}
    for name, path in PAGES:
        for _ in range(2):  # warm: templates compiled, connections open
            _get(client, path)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            _get(client, path)
            times.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            _get(client, path)
        out[name] = {"median": percentile(times, 50), "p95": percentile(times, 95), "queries": len(queries)}
    return out


def _get(client: "Client", path: str) -> "HttpResponse":
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}")
    return response


def table_sizes() -> dict[str, int]:
    from billing.models import StripeEvent
    from customers.models import Customer
    from sync.models import SyncJob

    return {"customers": Customer.objects.count(), "events": StripeEvent.objects.count(),
            "jobs": SyncJob.objects.count(), "dead jobs": SyncJob.objects.dead().count()}


def run(cfg: Config, section: Section, sizes: dict) -> None:
    generate.prepare()
    user = owner()
    small = max(20, cfg.customers // 100)
    small_dead = max(len(generate.JOB_KINDS), cfg.dead // 100)  # a dead job in every system at both sizes
    shape = dict(events_per_customer=cfg.events_per_customer, jobs_per_customer=cfg.jobs_per_customer)
    generate.fill(generate.Slice(start=0, customers=small, dead=small_dead, **shape))
    at_small = measure_pages(user, max(3, cfg.repeats // 3))
    small_sizes = table_sizes()
    started = time.monotonic()
    generate.fill(generate.Slice(start=small, customers=cfg.customers - small, dead=cfg.dead - small_dead, **shape))
    fill_seconds = time.monotonic() - started
    at_full = measure_pages(user, cfg.repeats)
    sizes.update(table_sizes())
    section.note(f"generator: {fill_seconds:.0f} s for the last {cfg.customers - small:,} customers with their "
                 f"events, jobs, links and mirrors (PostgreSQL COPY, then VACUUM ANALYZE)")
    section.note("sizes at 1 %: " + ", ".join(f"{k} {v:,}" for k, v in small_sizes.items()) +
                 "; at full: " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    section.note(f"{cfg.repeats} requests per page after 2 warm-up requests, owner role, in-process test Client, "
                 "the process's earlier objects frozen out of the garbage collector's reach as in a gunicorn "
                 "worker (config/gunicorn.py pre_fork)")
    base = at_full[BASELINE]
    for name, _ in PAGES:
        full, little = at_full[name], at_small[name]
        is_base = name == BASELINE
        section.row(name, "median / p95 ms", (full["median"], full["p95"]),
                    baseline=None if is_base else (base["median"], base["p95"]),
                    target="" if is_base else "p95 < 100 ms", met=None if is_base else full["p95"] < 100)
        section.row(name, "queries at 1 % -> full", (little["queries"], full["queries"]),
                    target="" if is_base else "same", met=None if is_base else little["queries"] == full["queries"])
