"""Publishing wake-ups while the broker is down: the row is the record, the sweeper sends them later."""

import pytest

from config.celery import app
from core.outages import BROKER
from sync.models import SyncJob
from sync.services import jobs_enqueue
from tests.sync.helpers import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def publishing():
    app.conf.task_always_eager = False  # publish for real
    BROKER.answered()
    yield
    app.conf.task_always_eager = True
    BROKER.answered()


def test_a_failed_publish_leaves_the_jobs_to_the_sweeper_and_the_broker_alone_for_a_while(publishing, broker_down):
    first, second = make_job("crm", "upsert_contact"), make_job("email", "tag_subscriber")
    assert jobs_enqueue(job_ids=[first.pk]) == 0
    assert BROKER.down
    assert SyncJob.objects.get(pk=first.pk).enqueued_at is None  # the sweeper wakes it at once

    SyncJob.objects.filter(pk=second.pk).update(enqueued_at="2030-01-01T00:00:00Z")
    assert jobs_enqueue(job_ids=[second.pk], marked=True) == 0  # not even tried
    assert SyncJob.objects.get(pk=second.pk).enqueued_at is None


def test_once_the_pause_is_over_publishing_resumes(publishing, monkeypatch):
    job = make_job("crm", "upsert_contact")
    BROKER.failed(ConnectionError("a moment ago"))
    assert jobs_enqueue(job_ids=[job.pk]) == 0
    monkeypatch.setattr(BROKER, "retry_after", 0.0)
    BROKER.failed(ConnectionError("the pause is over at once"))
    assert jobs_enqueue(job_ids=[job.pk]) == 1  # the embedded broker here is up
    assert not BROKER.down and SyncJob.objects.get(pk=job.pk).enqueued_at is not None
