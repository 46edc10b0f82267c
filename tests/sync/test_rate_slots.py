"""A job that must wait for its tool's budget is given the tool's next free slot, parked in the
database until then and woken once, at that slot; it then runs without asking the bucket again.
Nothing loops: a throttled backlog costs one wake-up per job run, not one per refill."""

from datetime import timedelta

import pytest
from amqp.exceptions import ChannelError
import time_machine
from django.utils import timezone

from config.celery import JOBS_QUEUE, app
from core.outages import BROKER
from sync.models import JobStatus, SyncJob
from sync.providers import provider_for
from sync.ratelimit import rate_reserve
from sync.services import jobs_enqueue, jobs_sweep
from tests.sync import fakes
from tests.sync.helpers import make_job, run

pytestmark = pytest.mark.django_db

TWO_TAGS_A_MINUTE = (6, 60)  # Kit's add_tag costs 3 tokens


def _queue(action: str) -> int:
    with app.connection_for_write() as conn:
        channel = conn.default_channel
        if action == "purge":
            channel.queue_declare(queue=JOBS_QUEUE, durable=True, auto_delete=False)
            return channel.queue_purge(JOBS_QUEUE) or 0
        try:
            return channel.queue_declare(queue=JOBS_QUEUE, passive=True).message_count
        except ChannelError:  # Redis keeps no empty list: an empty queue is not there
            return 0


@pytest.fixture
def jobs_queue():
    """Publish for real (no eager worker) to this run's broker; ``jobs_queue()`` counts the
    wake-ups waiting in the jobs queue (countdown ones included)."""
    app.conf.task_always_eager = False
    BROKER.answered()
    _queue("purge")
    yield lambda: _queue("count")
    _queue("purge")
    app.conf.task_always_eager = True


@pytest.fixture
def throttled_kit(serve, settings):
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "kit": TWO_TAGS_A_MINUTE}
    settings.SYNC_SWEEP_INTERVAL = 20
    settings.SYNC_REDELIVER_AFTER = 60
    return serve(fakes.Kit())


def _slots(jobs, now) -> list[float]:
    rows = SyncJob.objects.in_bulk([j.pk for j in jobs])
    return [max(0.0, (rows[j.pk].next_attempt_at - now).total_seconds()) for j in jobs]


def test_the_bucket_hands_out_slots_in_order_and_goes_into_debt_for_them(throttled_kit):
    with time_machine.travel(timezone.now(), tick=False):
        assert rate_reserve(provider=provider_for("email"), actions=["add_tag"] * 4) == pytest.approx([0, 0, 30, 60])
        assert rate_reserve(provider=provider_for("email"), actions=["add_tag"]) == pytest.approx([90])


def test_a_throttled_backlog_is_parked_at_its_slots_and_each_job_runs_at_its_slot_first_time(
        throttled_kit, jobs_queue):
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(6)]
    outcomes = []
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        start = timezone.now()
        assert jobs_enqueue(job_ids=[j.pk for j in jobs]) == 2  # the two due now; the rest wait in the database
        assert _slots(jobs, start) == [0, 0, 30, 60, 90, 120]
        assert jobs_queue() == 1  # the two due now share one wake-up (a batch)
        for job, at in zip(jobs, [0, 0, 30, 60, 90, 120]):
            traveller.move_to(start + timedelta(seconds=at))
            outcomes.append(run(job))
    assert outcomes == ["succeeded"] * 6  # not one "rate_limited": each asked the bucket once
    assert throttled_kit.writes() == 18  # the new tag, the subscriber and the tagging, once per job


def test_the_sweeper_wakes_a_parked_job_once_when_its_slot_comes_near(throttled_kit, jobs_queue):
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(4)]  # slots at 0, 0, 30, 60 s
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        jobs_enqueue(job_ids=[j.pk for j in jobs])
        SyncJob.objects.filter(pk__in=[jobs[0].pk, jobs[1].pk]).update(status=JobStatus.SUCCEEDED)
        _queue("purge")
        sent = []
        for _ in range(5):  # beat's sweeps for 80 s, while no worker takes anything
            sent.append(jobs_sweep()["enqueued"])
            traveller.shift(timedelta(seconds=20))
    # 30 s: woken by the sweep at 20 s; 60 s: by the one at 40 s; then the wake-ups are in flight.
    assert sent == [0, 1, 1, 0, 0]
    assert jobs_queue() == 2


def test_a_lost_wake_up_of_a_parked_job_is_sent_again_after_the_lease(throttled_kit, jobs_queue):
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(3)]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        jobs_enqueue(job_ids=[j.pk for j in jobs])
        SyncJob.objects.filter(pk__in=[jobs[0].pk, jobs[1].pk]).update(status=JobStatus.SUCCEEDED)
        traveller.shift(timedelta(seconds=20))
        assert jobs_sweep()["enqueued"] == 1
        _queue("purge")  # the broker restarted without it
        traveller.shift(timedelta(seconds=61))
        assert jobs_sweep()["enqueued"] == 1
        assert run(jobs[2]) == "succeeded"  # its slot is still good: no new wait


def test_a_job_woken_without_a_slot_reserves_one_and_is_not_asked_to_wait_twice(throttled_kit):
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(3)]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        start = timezone.now()
        assert [run(j) for j in jobs] == ["succeeded", "succeeded", "rate_limited"]
        assert jobs[2].rate_slot_at == jobs[2].next_attempt_at == start + timedelta(seconds=30)
        traveller.shift(timedelta(seconds=30))
        assert run(jobs[2]) == "succeeded"
        assert jobs[2].rate_slot_at is None


def test_a_slot_left_unused_for_a_whole_window_is_void(throttled_kit):
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(3)]
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert [run(j) for j in jobs] == ["succeeded", "succeeded", "rate_limited"]
        # Its slot passed while a pause held it; two more jobs took the refilled budget meanwhile.
        traveller.shift(timedelta(seconds=30 + 61))
        assert [run(make_job("email", "add_tag", tag=f"x{n}")) for n in range(2)] == ["succeeded"] * 2
        assert run(jobs[2]) == "rate_limited"
