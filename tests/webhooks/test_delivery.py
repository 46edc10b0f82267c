"""Facts delivered through the outbox to loopback receivers verifying with standardwebhooks: one job
per (fact, endpoint), retries with the same webhook-id, each endpoint its own breaker and rate limit."""

import json

import pytest

from sync.models import JobStatus, SyncAttempt, SyncJob, SystemState
from sync.services import jobs_sweep
from tests.factories import CustomerFactory
from tests.sync.helpers import due_now, run
from tests.webhooks.helpers import dispute_fact, endpoint_at
from tests.webhooks.receiver import Receiver
from webhooks.facts import facts_publish
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast(settings):
    settings.SYNC_HTTP_CONNECT_TIMEOUT = 1
    settings.SYNC_HTTP_READ_TIMEOUT = 0.3
    settings.SYNC_RETRY_BASE_SECONDS = 2
    return settings


def test_a_fact_reaches_the_endpoint_signed_and_verifiable(fast):
    customer = CustomerFactory()
    with Receiver() as receiver:
        endpoint = endpoint_at(receiver.url)
        receiver.secrets = [endpoint.secret]
        [job] = facts_publish(facts=[dispute_fact(customer)])
        assert run(job) == "succeeded"
    [delivery] = receiver.deliveries
    assert delivery["verified"] == [True]
    body = json.loads(delivery["body"])
    assert body["type"] == "dispute.opened" and body["data"]["customer"] == customer.public_id
    assert body["data"]["cause"] == {"source": "stripe", "id": "evt_1"}
    assert delivery["headers"]["webhook-id"] == body["id"] == dispute_fact(customer).id
    assert job.system == endpoint.system and job.customer == customer


def test_the_same_fact_again_writes_no_second_delivery():
    customer = CustomerFactory()
    endpoint_at("https://a.example/hooks")
    assert len(facts_publish(facts=[dispute_fact(customer)])) == 1
    assert facts_publish(facts=[dispute_fact(customer, event="evt_2")]) == []  # another event, same dispute
    assert SyncJob.objects.count() == 1


def test_only_the_endpoints_that_chose_a_type_get_it():
    customer = CustomerFactory()
    wants = endpoint_at("https://a.example/hooks", event_types=["dispute.opened"])
    endpoint_at("https://b.example/hooks", event_types=["payment.failed"])
    endpoint_at("https://c.example/hooks", enabled=False)
    [job] = facts_publish(facts=[dispute_fact(customer)])
    assert job.system == wants.system


def test_a_5xx_and_a_timeout_are_retried_with_the_same_webhook_id_and_each_attempt_is_logged(fast):
    customer = CustomerFactory()
    with Receiver() as receiver:
        endpoint = endpoint_at(receiver.url)
        receiver.secrets = [endpoint.secret]
        receiver.answers = [(503, {}, 0.0), (200, {}, 1.0)]  # then the read timeout (0.3 s) runs out
        [job] = facts_publish(facts=[dispute_fact(customer)])
        assert run(job) == "retrying"
        endpoint.refresh_from_db()
        assert endpoint.failing_since is not None
        due_now(job)
        assert run(job) == "retrying"
        due_now(job)
        assert run(job) == "succeeded"
    assert len({d["headers"]["webhook-id"] for d in receiver.deliveries}) == 1
    assert all(d["verified"] == [True] for d in receiver.deliveries) and len(receiver.deliveries) == 3
    attempts = list(SyncAttempt.objects.filter(job=job).order_by("number"))
    assert [a.outcome for a in attempts] == ["transient", "transient", "ok"]
    assert attempts[0].status_code == 503 and attempts[1].error_class == "timeout"
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


def test_a_4xx_is_dead_at_once_with_its_reason(fast):
    customer = CustomerFactory()
    with Receiver() as receiver:
        endpoint_at(receiver.url)
        receiver.answers = [(410, {}, 0.0)]
        [job] = facts_publish(facts=[dispute_fact(customer)])
        assert run(job) == "dead"
    assert job.status == JobStatus.DEAD and job.reason_code


def test_a_failing_endpoint_opens_its_own_breaker_and_not_the_others(fast):
    fast.SYNC_BREAKER_THRESHOLD = 2
    customer = CustomerFactory()
    with Receiver() as down, Receiver() as up:
        down.answers = [(503, {}, 0.0)] * 10
        bad, good = endpoint_at(down.url), endpoint_at(up.url)
        jobs = facts_publish(facts=[dispute_fact(customer, dispute=f"dp_{n}") for n in range(3)])
        for job in [j for j in jobs if j.system == bad.system][:2]:
            run(job)
        assert SystemState.objects.get(system=bad.system).breaker_open_until is not None
        assert not SystemState.objects.filter(system=good.system, breaker_open_until__isnull=False).exists()
        assert all(run(job) == "succeeded" for job in jobs if job.system == good.system)
    assert len(up.deliveries) == 3


def test_each_endpoint_has_its_own_rate_limit(fast):
    fast.SYNC_RATE_LIMITS = {**fast.SYNC_RATE_LIMITS, "webhook": (1, 60)}
    customer = CustomerFactory()
    with Receiver() as one, Receiver() as two:
        first, second = endpoint_at(one.url), endpoint_at(two.url)
        jobs = facts_publish(facts=[dispute_fact(customer, dispute=f"dp_{n}") for n in range(2)])
        mine = [j for j in jobs if j.system == first.system]
        theirs = [j for j in jobs if j.system == second.system]
        assert run(mine[0]) == "succeeded" and run(mine[1]) == "rate_limited"
        assert run(theirs[0]) == "succeeded"


def test_the_sweeper_wakes_deliveries_and_the_pause_switch_holds_them(fast):
    customer = CustomerFactory()
    endpoint = endpoint_at("https://a.example/hooks")
    [job] = facts_publish(facts=[dispute_fact(customer)])
    SyncJob.objects.filter(pk=job.pk).update(enqueued_at=None)
    assert jobs_sweep()["enqueued"] == 1  # (the suite's worker runs it at once: a.example is unreachable)
    job.refresh_from_db()
    assert job.attempts == 1 and job.status == JobStatus.RETRYING
    assert Endpoint.objects.get(pk=endpoint.pk).failing_since is not None
    due_now(job)
    SyncJob.objects.filter(pk=job.pk).update(enqueued_at=None)
    SystemState.objects.create(system=SystemState.ALL, paused=True)
    assert jobs_sweep()["enqueued"] == 0
    assert run(job) == "paused" and job.attempts == 1
