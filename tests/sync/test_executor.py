"""The executor against faulty loopback providers: retries, exactly one effect, leases, breaker, limits."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from sync.models import JobStatus, ReasonCode, SyncAttempt, SyncJob, SystemState
from sync.services import jobs_sweep
from tests.sync import fakes
from tests.sync.helpers import billing_change, customer_with_stripe, drain, due_now, make_job, run

pytestmark = pytest.mark.django_db

ACTIVE = {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"}
PAST_DUE = {**ACTIVE, "status": "past_due"}


def test_200_jobs_with_30_percent_faults_all_succeed_with_one_effect_each(serve, settings,
                                                                         django_capture_on_commit_callbacks):
    settings.SYNC_MAX_ATTEMPTS = 30  # faults are random: a run of 8 must not kill a job
    hub, zd, kit = (serve(fakes.HubSpot(fault_rate=0.3, seed=1)), serve(fakes.Zendesk(fault_rate=0.3, seed=2)),
                    serve(fakes.Kit(fault_rate=0.3, seed=3)))
    customers = [customer_with_stripe(email=f"c{n}@example.com") for n in range(40)]
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            for customer in customers:  # 5 jobs each: contact, user, ticket, tag, untag
                billing_change(customer, "invoice.payment_failed", ACTIVE, PAST_DUE)
        assert SyncJob.objects.count() == 200
        drain(traveller)
    assert SyncJob.objects.filter(status=JobStatus.SUCCEEDED).count() == 200
    assert SyncAttempt.objects.filter(outcome="transient").exists()  # the faults did happen
    assert len(hub.contacts) == 40 and len(zd.users) == 40
    assert sorted(t["external_id"] for t in zd.tickets) == sorted(
        SyncJob.objects.filter(action="create_ticket").values_list("idempotency_key", flat=True))
    assert all(kit.tags_of(c.email) == {"payment-failed"} for c in customers)


def test_a_permanent_error_is_dead_with_its_reason_after_one_attempt(serve):
    kit = serve(fakes.Kit())
    kit.force = (422, {"errors": ["Email address is invalid"]})
    job = make_job("email", "add_tag", tag="customer")
    assert run(job) == "dead"
    assert (job.reason_code, job.attempts, job.last_error) == (ReasonCode.VALIDATION, 1, "kit answered 422: rejected as invalid")


def test_retries_running_out_end_dead_retries_exhausted(serve, settings):
    settings.SYNC_MAX_ATTEMPTS = 3
    serve(fakes.HubSpot(fault_rate=1.0, faults=("500",)))
    settings.SYNC_BREAKER_THRESHOLD = 100
    job = make_job("crm", "upsert_contact")
    for _ in range(3):
        due_now(job)
        run(job)
    assert (job.status, job.reason_code, job.attempts) == (JobStatus.DEAD, ReasonCode.RETRIES_EXHAUSTED, 3)


def test_two_workers_racing_for_one_job_make_one_effect(serve):
    zd = serve(fakes.Zendesk())
    job = make_job("support", "create_ticket", subject="Payment failed")
    outcomes = [run(job, "worker-a"), run(job, "worker-b")]
    assert sorted(outcomes) == ["not_due", "succeeded"]
    assert len(zd.tickets) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_threads_racing_on_postgresql_make_one_effect(serve):
    zd = serve(fakes.Zendesk())
    jobs = [make_job("support", "create_ticket", subject="Payment failed") for _ in range(20)]
    barrier = threading.Barrier(2)
    outcomes = []

    def worker(name):
        barrier.wait()
        for job in jobs:
            outcomes.append(run(job, name))
        connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert outcomes.count("succeeded") == 20 and len(zd.tickets) == 20


def test_a_lease_that_expired_is_taken_back_and_run_once_more(serve):
    hub = serve(fakes.HubSpot())
    job = make_job("crm", "upsert_contact")
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, attempts=1, lease_owner="dead-worker",
                                             lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert jobs_sweep()["reclaimed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and len(hub.contacts) == 1
    assert list(job.attempt_log.values_list("outcome", flat=True)) == ["lost", "ok"]


def test_a_late_answer_from_a_worker_that_lost_its_lease_changes_nothing(serve):
    serve(fakes.HubSpot())
    job = make_job("crm", "upsert_contact")
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    from sync.providers import provider_for
    from sync.services.control import CLOSED, Gate
    from sync.services.executor import _execute
    from sync.services.payload import jobs_with_payload_facts

    job = jobs_with_payload_facts().get(pk=job.pk)  # as the executor loads it
    job.status, job.attempts = JobStatus.RUNNING, 1
    assert _execute(job, provider_for("crm"), "old-worker", gate=Gate(False, CLOSED, None, 0)) == "lease_lost"


def test_the_breaker_holds_a_failing_system_without_spending_attempts_then_a_probe_reopens_it(serve, settings):
    settings.SYNC_BREAKER_THRESHOLD, settings.SYNC_BREAKER_COOLDOWN = 3, 60
    hub = serve(fakes.HubSpot(fault_rate=1.0, faults=("500",)))
    jobs = [make_job("crm", "upsert_contact") for _ in range(5)]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert [run(j) for j in jobs] == ["retrying"] * 3 + ["held"] * 2
        assert SystemState.objects.get(system="crm").breaker_open_until is not None
        assert [j.attempts for j in jobs[3:]] == [0, 0]
        hub.fault_rate = 0
        traveller.shift(timedelta(seconds=66))  # past the cooldown and the jitter of the wait
        assert run(jobs[3]) == "succeeded"  # the probe
        assert SystemState.objects.get(system="crm").breaker_open_until is None
        drain(traveller)
    assert len(hub.contacts) == 5


def test_a_failed_probe_holds_the_system_again(serve, settings):
    settings.SYNC_BREAKER_THRESHOLD = 1
    serve(fakes.HubSpot(fault_rate=1.0, faults=("500",)))
    first, second = make_job("crm", "upsert_contact"), make_job("crm", "upsert_contact")
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        run(first)
        traveller.shift(timedelta(seconds=settings.SYNC_BREAKER_COOLDOWN + 1))
        assert run(second) == "retrying"  # the probe failed
        assert SystemState.objects.get(system="crm").breaker_open_until > timezone.now()


def test_a_job_without_a_rate_token_waits_without_spending_an_attempt(serve, settings):
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "kit": (6, 60)}  # two add_tag jobs a minute
    kit = serve(fakes.Kit())
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(3)]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert [run(j) for j in jobs] == ["succeeded", "succeeded", "rate_limited"]
        assert jobs[2].attempts == 0 and jobs[2].next_attempt_at > timezone.now()
        traveller.shift(timedelta(seconds=31))
        assert run(jobs[2]) == "succeeded"
    assert kit.writes() <= 9


def test_rejected_credentials_hold_the_system_so_the_rest_wait_instead_of_dying(serve, settings):
    settings.SYNC_BREAKER_THRESHOLD = 2
    kit = serve(fakes.Kit())
    kit.force = (401, {"errors": ["The access token is invalid"]})
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(4)]
    assert [run(j) for j in jobs] == ["dead", "dead", "held", "held"]
    state = SystemState.objects.get(system="email")
    assert state.last_failure_reason == ReasonCode.AUTH_FAILED and state.breaker_open_until is not None


def test_the_sweeper_resends_only_wake_ups_that_look_lost(settings):
    settings.SYNC_REDELIVER_AFTER = 60
    fresh, stale = make_job("crm", "upsert_contact"), make_job("crm", "upsert_contact")
    now = timezone.now()
    SyncJob.objects.filter(pk=fresh.pk).update(enqueued_at=now - timedelta(seconds=5))
    SyncJob.objects.filter(pk=stale.pk).update(enqueued_at=now - timedelta(seconds=61))
    assert jobs_sweep()["enqueued"] == 1
    assert SyncJob.objects.get(pk=stale.pk).status == JobStatus.SUCCEEDED
    assert SyncJob.objects.get(pk=fresh.pk).status == JobStatus.PENDING
