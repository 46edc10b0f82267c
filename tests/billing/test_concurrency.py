"""The door and the processor under real concurrency (threads against a live server on PostgreSQL)."""

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection

from billing import models as b
from billing.models import EventStatus, StripeEvent
from customers.models import Customer, ExternalLink
from sync.models import SyncJob
from tests import stripe_events as se
from tests.billing.conftest import with_fresh_id

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so there is no race to test")


def post_concurrently(url: str, raw: bytes, copies: int = 3) -> list[int]:
    header = se.sign(raw)
    barrier = threading.Barrier(copies)

    def send(_):
        barrier.wait()
        return requests.post(url, data=raw, headers={"Stripe-Signature": header, "Content-Type": "application/json"}, timeout=30).status_code

    with ThreadPoolExecutor(copies) as pool:
        return list(pool.map(send, range(copies)))


def _job_keys() -> list[str]:
    # Keys name the customer by its (random) Switchboard id; compare them without it.
    keys = SyncJob.objects.values_list("idempotency_key", flat=True)
    return sorted(re.sub(r"sw_[0-9a-f]+", "sw_*", key) for key in keys)


def _deliver_all(url: str, bodies: list[bytes], copies: int) -> None:
    for raw in bodies:
        if copies == 1:
            status = requests.post(url, data=raw, headers={"Stripe-Signature": se.sign(raw), "Content-Type": "application/json"}, timeout=30).status_code
            assert status == 200
        else:
            assert post_concurrently(url, raw, copies) == [200] * copies


def test_each_real_payload_delivered_three_times_at_once_is_stored_and_applied_once(live_server, shared_events, settings):
    from tests.billing.state import final_state
    from tests.billing.state import reset_billing

    url = f"{live_server.url}/webhooks/stripe/"
    settings.STRIPE_LIVEMODE = False
    bodies = [with_fresh_id(raw, f"evt_cc_{i:03d}", livemode=False) for i, raw in enumerate(shared_events.values())]

    _deliver_all(url, bodies, copies=1)  # the baseline: each event once, one at a time
    once = (final_state(), _job_keys())
    reset_billing()

    _deliver_all(url, bodies, copies=3)
    assert StripeEvent.objects.count() == len(shared_events)
    assert StripeEvent.objects.exclude(status=EventStatus.PROCESSED).count() == 0
    thrice = (final_state(), _job_keys())
    assert thrice == once  # the same mirrors, customers and outbound jobs as a single delivery
    assert once[1], "the deliveries should have caused outbound work"


def test_a_new_customers_first_events_on_two_connections_create_one_customer(live_server):
    url = f"{live_server.url}/webhooks/stripe/"
    created = se.event("customer.created", se.customer("cus_RACE1", email="race@example.com"), created=1_700_000_000)
    sub = se.event("customer.subscription.created", se.subscription("sub_RACE1", "cus_RACE1"), created=1_700_000_001)
    raws = [json.dumps(created).encode(), json.dumps(sub).encode()]
    barrier = threading.Barrier(2)

    def send(raw):
        barrier.wait()
        return requests.post(url, data=raw, headers={"Stripe-Signature": se.sign(raw), "Content-Type": "application/json"}, timeout=30).status_code

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(send, raws)) == [200, 200]
    assert Customer.objects.count() == 1
    assert StripeEvent.objects.filter(status=EventStatus.PROCESSED).count() == 2
    assert Customer.objects.get().status == "active"


def test_one_customers_events_processed_by_parallel_workers_do_not_interleave():
    from billing.parsing import event_envelope
    from billing.services import event_process

    events = []
    for i in range(12):
        status = "past_due" if i == 11 else "active"
        evt = se.event("customer.subscription.updated", se.subscription("sub_P", "cus_P", status=status, amount=1000 + i),
                       created=1_700_000_000 + i)
        env = event_envelope(evt)
        events.append(StripeEvent.objects.create(stripe_id=env.id, type=env.type, created=env.created, payload=env.raw).pk)

    def work(pk):
        try:
            return event_process(event_id=pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, reversed(events)))
    assert results == [EventStatus.PROCESSED] * 12
    sub = b.Subscription.objects.get()
    assert (sub.status, sub.amount) == ("past_due", 1011)  # the newest event won, whatever ran first
    assert Customer.objects.get().status == "past_due"


def test_a_customers_two_first_events_taken_by_two_workers_at_once_give_the_same_work_as_in_order():
    """Whichever worker wins, "subscription created" is applied after "customer created": the work it
    plans is the same each time (a plan, a status and access, from a customer who had them)."""
    from billing.parsing import event_envelope
    from billing.services import event_process

    def stored(evt: dict) -> int:
        env = event_envelope(evt)
        return StripeEvent.objects.create(stripe_id=env.id, type=env.type, created=env.created, payload=env.raw,
                                          stripe_customer_id=env.customer).pk

    def work(pk):
        barrier.wait()
        try:
            return event_process(event_id=pk)
        finally:
            connection.close()

    jobs_per_subscription = set()
    for n in range(12):
        cid = f"cus_PAIR{n}"
        pair = [stored(se.event("customer.created", se.customer(cid), created=1_700_000_000)),
                stored(se.event("customer.subscription.created", se.subscription(f"sub_PAIR{n}", cid),
                                created=1_700_000_000))]
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(work, pair if n % 2 else reversed(pair)))
        assert set(StripeEvent.objects.filter(pk__in=pair).values_list("status", flat=True)) == {"processed"}
        jobs_per_subscription.add(SyncJob.objects.filter(source_event_id=pair[1]).count())
    assert jobs_per_subscription == {6}
