"""A small wake-up (fewer jobs than a batch) is not sent while one for the same system waits in the
queue: the waiting one's worker fills its batch with the system's due jobs, the later ones among
them. So under load many small wake-ups become a few full batches instead of tasks that arrive to
find their jobs already run. Full batches are always sent; a worker that fills a whole batch wakes
the next; a publish the broker refused, or a cache that does not answer, never leaves jobs asleep."""

import pytest

from sync.models import JobStatus, SyncJob
from sync.services import jobs_enqueue
from sync.services.executor import jobs_run
from sync.services.outbox import JOBS_PER_BATCH
from tests.sync import fakes
from tests.sync.helpers import customer_with_stripe, make_job
from tests.sync.test_rate_slots import _queue, jobs_queue  # noqa: F401 - the fixture: publish for real, count

pytestmark = pytest.mark.django_db


def _contact() -> SyncJob:
    return make_job("crm", "upsert_contact", customer_with_stripe())


def test_a_small_wake_up_rides_on_the_one_queued_for_its_system_and_that_worker_runs_it(serve, jobs_queue):
    serve(fakes.HubSpot())
    first, second = _contact(), _contact()
    assert jobs_enqueue(job_ids=[first.pk]) == 1
    assert jobs_enqueue(job_ids=[second.pk]) == 1  # woken: it rides on the queued wake-up
    assert jobs_queue() == 1
    ticket = make_job("support", "upsert_user")
    assert jobs_enqueue(job_ids=[ticket.pk]) == 1 and jobs_queue() == 2  # another system: its own
    # The queued wake-up names only the first job; its worker takes the second with it.
    outcomes = jobs_run(job_ids=[first.pk], worker="worker-1", system="crm")
    assert outcomes == {first.pk: "succeeded", second.pk: "succeeded"}
    # Taken off the queue, the wake-up no longer carries what comes next: the next one is sent.
    _queue("purge")
    assert jobs_enqueue(job_ids=[_contact().pk]) == 1 and jobs_queue() == 1


def test_full_batches_are_always_sent_and_do_not_hold_back_a_small_one(jobs_queue):
    full = [_contact().pk for _ in range(JOBS_PER_BATCH)]
    assert jobs_enqueue(job_ids=full) == JOBS_PER_BATCH and jobs_queue() == 1
    again = [_contact().pk for _ in range(JOBS_PER_BATCH + 2)]  # a full batch and a small one
    assert jobs_enqueue(job_ids=again) == JOBS_PER_BATCH + 2 and jobs_queue() == 3
    assert jobs_enqueue(job_ids=[_contact().pk]) == 1 and jobs_queue() == 3  # rides on the small one


def test_a_wake_up_with_a_countdown_is_always_sent(jobs_queue):
    jobs_enqueue(job_ids=[_contact().pk])
    assert jobs_enqueue(job_ids=[_contact().pk], countdown=5) == 1 and jobs_queue() == 2


def test_a_worker_that_fills_a_whole_batch_wakes_the_next_and_the_last_one_wakes_nobody(serve, jobs_queue):
    serve(fakes.HubSpot())
    ids = [_contact().pk for _ in range(JOBS_PER_BATCH + 5)]  # due, and no wake-up names them
    first = jobs_run(job_ids=[], worker="worker-1", system="crm")
    assert len(first) == JOBS_PER_BATCH and set(first.values()) == {"succeeded"}
    assert jobs_queue() == 1  # the next worker, for the five left behind
    _queue("purge")  # taken by that worker:
    last = jobs_run(job_ids=[], worker="worker-2", system="crm")
    assert sorted(first | last) == sorted(ids) and set(last.values()) == {"succeeded"}
    assert jobs_queue() == 0
    assert not SyncJob.objects.exclude(status=JobStatus.SUCCEEDED).exists()


def test_after_a_refused_publish_the_next_small_wake_up_is_sent(jobs_queue, broker_down):
    first = _contact()
    assert jobs_enqueue(job_ids=[first.pk]) == 0
    first.refresh_from_db()
    assert first.enqueued_at is None  # left to the sweeper
    broker_down()  # back
    # Nothing is queued for the system, so nothing may ride: the next small wake-up is sent.
    assert jobs_enqueue(job_ids=[first.pk, _contact().pk]) == 2 and jobs_queue() == 1


def test_without_a_cache_every_small_wake_up_is_sent(jobs_queue, cache_down):
    assert jobs_enqueue(job_ids=[_contact().pk]) == 1
    assert jobs_enqueue(job_ids=[_contact().pk]) == 1
    assert jobs_queue() == 2
