"""Jobs run in batches: one wake-up per system and batch, one claim, one insert of the attempts,
bulk updates; a failure of the whole system, a 429 or a probing breaker bound what a batch does."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import ExternalLink
from sync.hooks import success_hook_register, success_hook_unregister
from sync.models import JobStatus, SyncAttempt, SyncJob, SystemState
from sync.services import jobs_enqueue, jobs_retry_bulk, jobs_sweep
from sync.services.executor import jobs_run
from sync.services.outbox import JOBS_PER_BATCH
from sync.tasks import run_job, run_jobs
from tests.sync import fakes
from tests.sync.helpers import customer_with_stripe, make_job
from tests.sync.test_rate_slots import jobs_queue  # noqa: F401 - the fixture: publish for real, count

pytestmark = pytest.mark.django_db


def _contacts(customers) -> list[int]:
    return [make_job("crm", "upsert_contact", customer).pk for customer in customers]


def test_one_wake_up_claims_its_batch_at_once_and_records_every_try_with_one_insert(serve):
    hub = serve(fakes.HubSpot())
    ids = _contacts(customer_with_stripe() for _ in range(10))
    with CaptureQueriesContext(connection) as ctx:
        outcomes = jobs_run(job_ids=ids, worker="worker-1")
    assert outcomes == {pk: "succeeded" for pk in ids}
    assert sum("attempts = attempts + 1" in q["sql"] for q in ctx.captured_queries) == 1  # the claim
    assert sum(q["sql"].startswith('INSERT INTO "sync_syncattempt"') for q in ctx.captured_queries) == 1
    # One UPDATE marks them done: each its own id in HubSpot, the empty note for all as one value.
    done = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "sync_syncjob"')]
    assert len(done) == 1 and done[0].count("CASE ") == 1
    assert len(hub.contacts) == 10 and SyncAttempt.objects.filter(outcome="ok").count() == 10
    assert not SyncJob.objects.exclude(status=JobStatus.SUCCEEDED).exists()


def test_a_batch_costs_the_same_statements_for_two_jobs_or_twenty(serve, settings):
    settings.REDIS_URL = ""  # the rate bucket in the database: the same count with or without Redis
    serve(fakes.HubSpot())
    customers = [customer_with_stripe() for _ in range(20)]
    jobs_run(job_ids=_contacts(customers), worker="worker-1")  # the links are written once, here
    counts = []
    for size in (2, 20):
        ids = _contacts(customers[:size])
        with CaptureQueriesContext(connection) as ctx:
            assert set(jobs_run(job_ids=ids, worker="worker-1").values()) == {"succeeded"}
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_a_batch_links_its_new_customers_with_one_read_one_insert_and_one_savepoint(serve, settings):
    settings.REDIS_URL = ""  # the rate bucket in the database: the same count with or without Redis
    serve(fakes.HubSpot())
    jobs_run(job_ids=_contacts([customer_with_stripe()]), worker="worker-1")  # the rate bucket's row is written once
    savepoints, entries = [], []
    for size in (2, 10):
        ids = _contacts([customer_with_stripe() for _ in range(size)])
        with CaptureQueriesContext(connection) as ctx:
            assert set(jobs_run(job_ids=ids, worker="worker-1").values()) == {"succeeded"}
        sql = [q["sql"] for q in ctx.captured_queries]
        assert sum(q.startswith('SELECT "customers_externallink"') for q in sql) == 1
        assert sum(q.startswith('INSERT INTO "customers_externallink"') for q in sql) == 1
        savepoints.append(sum(q.startswith("SAVEPOINT") for q in sql))
        entries.append(sum(q.startswith('INSERT INTO "auditlog_logentry"') for q in sql))
    assert savepoints[0] == savepoints[1]  # not one per link
    assert entries[0] == entries[1]  # nor an audit entry's INSERT: one for all the links
    links = dict(ExternalLink.objects.filter(system="crm").values_list("customer_id", "external_id"))
    assert links == {job.customer_id: job.external_id for job in SyncJob.objects.filter(system="crm")}


def test_a_batch_of_contact_jobs_shares_one_request_and_each_keeps_its_own_try(serve):
    hub = serve(fakes.HubSpot())
    customers = [customer_with_stripe() for _ in range(5)]
    ids = _contacts(customers)
    assert set(jobs_run(job_ids=ids, worker="worker-1").values()) == {"succeeded"}
    assert hub.writes() == 1 and len(hub.contacts) == 5
    for job in SyncJob.objects.filter(pk__in=ids).select_related("customer"):
        assert job.external_id == hub.contacts[job.customer.public_id]["id"]
        attempt = SyncAttempt.objects.get(job=job)
        assert attempt.outcome == "ok" and attempt.response_summary["external_id"] == job.external_id
        (call,) = attempt.request_summary["calls"]
        assert call["shared_with"] == 4
        assert [i["id"] for i in call["request"]["inputs"]] == [job.customer.public_id]  # its own input only


def test_two_jobs_for_one_contact_never_share_a_request_and_run_in_their_order(serve):
    hub = serve(fakes.HubSpot())
    ada, bob = customer_with_stripe(), customer_with_stripe()
    first = make_job("crm", "upsert_contact", ada, plan="Basic")
    other = make_job("crm", "upsert_contact", bob)
    later = make_job("crm", "upsert_contact", ada, plan="Pro")
    assert set(jobs_run(job_ids=[first.pk, other.pk, later.pk], worker="worker-1").values()) == {"succeeded"}
    assert hub.writes() == 2  # HubSpot refuses one id twice in a batch
    assert hub.contacts[ada.public_id]["properties"]["switchboard_plan"] == "Pro"


def test_a_contact_refused_in_a_shared_request_is_sent_alone_and_fails_on_its_own(serve):
    hub = serve(fakes.HubSpot())
    customers = [customer_with_stripe() for _ in range(3)]
    hub.refused.add(customers[1].public_id)
    ids = _contacts(customers)
    outcomes = jobs_run(job_ids=ids, worker="worker-1")
    assert outcomes == {ids[0]: "succeeded", ids[1]: "dead", ids[2]: "succeeded"}
    assert hub.writes() == 2  # the shared request, then the refused one alone, to learn why
    refused = SyncJob.objects.get(pk=ids[1])
    assert refused.reason_code == "validation" and refused.attempts == 1
    assert SyncAttempt.objects.filter(job_id=ids[1]).count() == 1


def test_a_wake_up_for_jobs_already_run_changes_nothing(serve):
    serve(fakes.HubSpot())
    ids = _contacts(customer_with_stripe() for _ in range(3))
    jobs_run(job_ids=ids, worker="worker-1")
    assert jobs_run(job_ids=ids, worker="worker-2") == {pk: "not_due" for pk in ids}
    assert SyncAttempt.objects.count() == 3


def test_an_outage_stops_the_batch_and_hands_the_rest_back_without_spending_attempts(serve, settings):
    settings.SYNC_BREAKER_THRESHOLD = 100
    hub = serve(fakes.HubSpot(fault_rate=1.0, faults=("500",)))
    ids = _contacts(customer_with_stripe() for _ in range(5))
    with time_machine.travel(timezone.now(), tick=False):
        now = timezone.now()
        outcomes = jobs_run(job_ids=ids, worker="worker-1")
    assert outcomes[ids[0]] == "retrying" and hub.writes() == 1  # not four more calls into the same wall
    rest = SyncJob.objects.filter(pk__in=ids[1:])
    assert {(j.status, j.attempts, j.lease_owner) for j in rest} == {(JobStatus.PENDING, 0, "")}
    assert {j.next_attempt_at for j in rest} == {now + timedelta(seconds=1)}
    assert SyncAttempt.objects.count() == 1


def test_a_429_stops_the_batch_and_the_rest_wait_for_its_retry_after(serve):
    serve(fakes.HubSpot(fault_rate=1.0, faults=("429",)))  # Retry-After: 2
    ids = _contacts(customer_with_stripe() for _ in range(3))
    with time_machine.travel(timezone.now(), tick=False):
        now = timezone.now()
        jobs_run(job_ids=ids, worker="worker-1")
    first = SyncJob.objects.get(pk=ids[0])
    assert first.status == JobStatus.RETRYING and first.next_attempt_at >= now + timedelta(seconds=2)
    assert {j.next_attempt_at for j in SyncJob.objects.filter(pk__in=ids[1:])} == {now + timedelta(seconds=2)}


def test_a_half_open_breaker_lets_one_job_of_the_batch_ask_and_holds_the_others(serve):
    hub = serve(fakes.HubSpot())
    SystemState.objects.create(system="crm", breaker_open_until=timezone.now() - timedelta(seconds=1),
                               consecutive_failures=5)
    ids = _contacts(customer_with_stripe() for _ in range(3))
    outcomes = jobs_run(job_ids=ids, worker="worker-1")
    assert outcomes == {ids[0]: "succeeded", ids[1]: "held", ids[2]: "held"}
    assert hub.writes() == 1
    assert SystemState.objects.get(system="crm").breaker_open_until is None  # it answered: closed again
    assert not SyncJob.objects.filter(pk__in=ids[1:]).exclude(status=JobStatus.PENDING, attempts=0).exists()


def test_a_hook_that_raises_leaves_only_its_own_job_running(serve):
    serve(fakes.HubSpot())
    ids = _contacts(customer_with_stripe() for _ in range(3))

    def hook(*, job, external_id):
        if job.pk == ids[1]:
            raise RuntimeError("the app above failed")

    success_hook_register(action="upsert_contact", name="test.raises", hook=hook)
    try:
        outcomes = jobs_run(job_ids=ids, worker="worker-1")
    finally:
        success_hook_unregister(action="upsert_contact", name="test.raises")
    assert outcomes == {ids[0]: "succeeded", ids[1]: "hook_failed", ids[2]: "succeeded"}
    assert SyncJob.objects.get(pk=ids[1]).status == JobStatus.RUNNING  # the sweeper takes it back after the lease


def test_a_wake_up_fills_its_batch_with_other_due_jobs_of_its_system(serve):
    serve(fakes.HubSpot())
    ids = _contacts(customer_with_stripe() for _ in range(4))
    later = make_job("crm", "upsert_contact")
    SyncJob.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    tag = make_job("email", "add_tag", tag="t")
    result = run_jobs.apply(args=["crm", ids[:1]]).get()
    assert result == {"system": "crm", "outcomes": {"succeeded": 4}}
    assert SyncJob.objects.get(pk=later.pk).status == JobStatus.PENDING  # not due yet
    assert SyncJob.objects.get(pk=tag.pk).status == JobStatus.PENDING  # another system's


def test_the_old_one_job_wake_up_still_runs_its_job_and_only_it(serve):
    serve(fakes.HubSpot())
    job, other = make_job("crm", "upsert_contact"), make_job("crm", "upsert_contact")
    assert run_job.apply(args=[job.pk]).get() == "succeeded"
    assert SyncJob.objects.get(pk=other.pk).status == JobStatus.PENDING


def test_the_outbox_publishes_one_wake_up_per_system_and_batch(jobs_queue):  # noqa: F811
    crm = _contacts(customer_with_stripe() for _ in range(2 * JOBS_PER_BATCH + 3))
    email = [make_job("email", "add_tag", tag="t").pk for _ in range(2)]
    assert jobs_enqueue(job_ids=crm + email) == len(crm) + len(email)
    assert jobs_queue() == 3 + 1


def test_the_sweeper_sends_batch_wake_ups_and_none_for_work_already_woken(jobs_queue):  # noqa: F811
    _contacts(customer_with_stripe() for _ in range(JOBS_PER_BATCH + 1))
    assert jobs_sweep()["enqueued"] == JOBS_PER_BATCH + 1
    assert jobs_queue() == 2
    assert jobs_sweep()["enqueued"] == 0 and jobs_queue() == 2


def test_a_bulk_retry_wakes_its_jobs_in_batches(owner, jobs_queue, django_capture_on_commit_callbacks):  # noqa: F811
    _contacts(customer_with_stripe() for _ in range(JOBS_PER_BATCH + 5))
    SyncJob.objects.update(status=JobStatus.DEAD, attempts=8)
    with django_capture_on_commit_callbacks(execute=True):
        jobs_retry_bulk(jobs=SyncJob.objects.dead(), actor=owner, source="ui")
    assert jobs_queue() == 2
