"""The job log's per-system counts: exact, read from unfinished jobs only, and the switches shown with them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import System
from sync.models import JobStatus, SyncJob, SystemState
from sync.selectors import job_log_systems
from tests import helpers

pytestmark = pytest.mark.django_db


def _jobs(system: str, status: str, n: int) -> None:
    c = helpers.customer()
    for _ in range(n):
        job = helpers.dead_job(c, system=system)
        SyncJob.objects.filter(pk=job.pk).update(status=status)


def test_each_system_shows_exactly_its_open_and_dead_jobs(client, owner):
    _jobs(System.CRM, JobStatus.DEAD, 3)
    _jobs(System.CRM, JobStatus.PENDING, 2)
    _jobs(System.CRM, JobStatus.RETRYING, 1)
    _jobs(System.CRM, JobStatus.SUCCEEDED, 4)
    _jobs(System.EMAIL, JobStatus.RUNNING, 1)
    client.force_login(owner)
    response = client.get(reverse("job_list"))
    shown = {s.system: (s.open_jobs, s.dead_jobs) for s in response.context["systems"]}
    assert shown == {System.CRM: (3, 3), System.SUPPORT: (0, 0), System.COMMUNITY: (0, 0), System.EMAIL: (1, 0)}
    assert f'href="?system={System.CRM}&amp;status=dead">3 dead</a> · 3 open' in response.content.decode()


def test_the_counts_agree_with_counting_every_job(owner):
    for system, status, n in [(System.SUPPORT, JobStatus.DEAD, 2), (System.SUPPORT, JobStatus.SUCCEEDED, 3),
                              (System.COMMUNITY, JobStatus.PENDING, 2), (System.EMAIL, JobStatus.DEAD, 1)]:
        _jobs(system, status, n)
    for system, view in job_log_systems(user=owner).items():
        jobs = SyncJob.objects.filter(system=system)
        assert view.dead_jobs == jobs.dead().count()
        assert view.open_jobs == jobs.open().count()


def test_waiting_work_of_a_paused_or_held_system_shows_as_paused(client, owner):
    _jobs(System.CRM, JobStatus.PENDING, 1)
    _jobs(System.SUPPORT, JobStatus.RETRYING, 1)
    _jobs(System.EMAIL, JobStatus.PENDING, 1)
    SystemState.objects.create(system=System.CRM, paused=True, paused_reason="maintenance")
    SystemState.objects.create(system=System.SUPPORT, breaker_open_until=timezone.now() + timedelta(minutes=5))
    client.force_login(owner)
    rows = client.get(reverse("job_list")).context["page"].rows
    assert {job.system: job.shown_status for job in rows} == {
        System.CRM: "paused", System.SUPPORT: "paused", System.EMAIL: JobStatus.PENDING}


def test_pausing_everything_pauses_every_system_in_the_log(owner):
    SystemState.objects.create(system=SystemState.ALL, paused=True, paused_reason="incident")
    assert all(view.paused for view in job_log_systems(user=owner).values())


def test_jobs_of_customers_someone_may_not_see_are_not_counted_for_them(client, owner, finance):
    hidden = helpers.customer(restricted=True)
    helpers.dead_job(hidden, system=System.CRM)
    _jobs(System.CRM, JobStatus.DEAD, 1)
    for user, expected in ((owner, 2), (finance, 1)):
        client.force_login(user)
        log = {s.system: s.dead_jobs for s in client.get(reverse("job_list")).context["systems"]}
        page = {s.system: s.dead_jobs for s in client.get(reverse("system_list")).context["systems"]}
        assert log[System.CRM] == page[System.CRM] == expected, user.email
