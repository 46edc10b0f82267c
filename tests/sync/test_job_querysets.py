"""Which jobs are open, waiting, due or undelivered: one queryset, used by the executor, screens and alerts."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sync.models import JobStatus, SyncJob
from tests.factories import SyncJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_of_each():
    return {status: SyncJobFactory(status=status, next_attempt_at=timezone.now() - timedelta(minutes=1))
            for status in JobStatus.values}


def _statuses(qs) -> set[str]:
    return set(qs.values_list("status", flat=True))


def test_open_jobs_are_waiting_or_running(one_of_each):
    assert _statuses(SyncJob.objects.open()) == {"pending", "running", "retrying"}


def test_waiting_jobs_are_open_but_not_running(one_of_each):
    assert _statuses(SyncJob.objects.waiting()) == {"pending", "retrying"}


def test_undelivered_jobs_are_open_or_dead(one_of_each):
    assert _statuses(SyncJob.objects.open_or_dead()) == {"pending", "running", "retrying", "dead"}


def test_due_jobs_are_waiting_jobs_whose_time_has_come(one_of_each):
    now = timezone.now()
    assert _statuses(SyncJob.objects.due(now)) == {"pending", "retrying"}
    SyncJob.objects.filter(status="pending").update(next_attempt_at=now + timedelta(minutes=5))
    assert _statuses(SyncJob.objects.due(now)) == {"retrying"}
    assert _statuses(SyncJob.objects.due(now + timedelta(minutes=5))) == {"pending", "retrying"}
