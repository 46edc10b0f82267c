"""A full pass costs one read per customer (plus the orphan search's pages), however many customers;
with DRIFT_BENCH_CUSTOMERS=10000 the same test measures a full pass and prints its time and requests."""

import os
import time

import pytest

from customers.models import Customer
from sync.services.drift import reconcile_system
from tests.sync import drift_fakes

pytestmark = pytest.mark.django_db
N = int(os.environ.get("DRIFT_BENCH_CUSTOMERS") or 150)


def test_a_full_pass_reads_each_customer_once(serve, settings, tmp_path):
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "hubspot": (1_000_000, 1)}  # pacing measured elsewhere
    settings.DRIFT_READ_SHARE = 1.0
    hub = serve(drift_fakes.HubSpot())
    settings.SYNC_HTTP_READ_TIMEOUT = 5  # a busy machine is not a tool that stopped answering
    hub.search = lambda request: (200, {"results": [], "paging": {}})  # no orphans: one page
    customers = Customer.objects.bulk_create(
        Customer(public_id=f"sw_bench{n:06d}", email=f"c{n}@example.com", status="active", plan="Pro")
        for n in range(N))
    for c in customers:
        hub.contacts[c.public_id] = {"id": str(n := len(hub.contacts) + 1), "properties": {
            "switchboard_id": c.public_id, "email": c.email, "switchboard_status": "active",
            "switchboard_plan": "Pro", "lifecyclestage": "customer"}}
    started = time.monotonic()
    result = reconcile_system(system="crm")
    seconds = time.monotonic() - started
    assert (result.checked, len(result.found)) == (N, 0)
    assert len(hub.times) == N + 1 == result.reads
    print(f"\nfull crm pass over {N} customers: {seconds:.1f} s, {len(hub.times)} requests "
          f"({N / seconds:.0f} customers/s), n={n}")
