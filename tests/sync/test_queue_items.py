"""Sync's kinds in the queue: dead jobs (retry one, retry all of a system) and systems paused or failing (resume)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from action_queue.items import ROWS_PER_GROUP, QueueContext
from action_queue.selectors import action_items_for
from audit.models import AuditEvent
from customers.models import System
from sync.models import JobStatus, SyncJob, SystemState
from sync.queue_items import dead_job_items
from tests import helpers

pytestmark = pytest.mark.django_db


def _kinds(user, **kw):
    return {g.key: g for g in action_items_for(user=user, **kw).groups}


def _group(user, key: str):
    return next((g for g in action_items_for(user=user).groups if g.key == key), None)


def test_a_dead_job_shows_with_its_system_reason_and_customer(client, owner):
    job = helpers.dead_job(error="401 Unauthorized: token rejected")
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert "Dead CRM jobs" in html
    assert "401 Unauthorized: token rejected" in html
    assert job.customer.public_id in html
    assert reverse("queue_retry", args=[job.pk]) in html


def test_support_sees_dead_support_jobs_but_not_crm_ones(support):
    helpers.dead_job(system=System.CRM)
    helpers.dead_job(system=System.SUPPORT)
    assert set(_kinds(support)) == {"dead_job:support"}


def test_a_crafted_retry_of_a_job_the_role_may_not_retry_is_refused(client, support):
    job = helpers.dead_job(system=System.CRM)
    client.force_login(support)
    assert client.post(reverse("queue_retry", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.DEAD


def test_retry_from_the_queue_requeues_the_job_and_swaps_the_row(client, owner):
    job = helpers.dead_job()
    client.force_login(owner)
    response = client.post(reverse("queue_retry", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Queued again" in response.content.decode()
    assert "<html" not in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.PENDING
    assert AuditEvent.objects.filter(action="sync.job_retry", actor=owner).exists()


def test_paused_system_is_an_item_the_owner_can_resume(client, owner):
    state = SystemState.objects.create(system="crm", paused=True, paused_reason="Token rotation")
    client.force_login(owner)
    assert "system" in _kinds(owner)
    response = client.post(reverse("queue_resume", args=[state.pk]))
    assert response.status_code == 200 and "resumed" in response.content.decode()
    state.refresh_from_db()
    assert not state.paused


def test_a_failing_system_counts_its_failures_in_words(client, owner):
    SystemState.objects.create(system="crm", consecutive_failures=1, last_failure_reason="auth_failed")
    SystemState.objects.create(system="support", consecutive_failures=5, last_failure_reason="server_error",
                               breaker_open_until=timezone.now() + timedelta(minutes=5))
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert "CRM rejects our credentials" in html and "1 failure in a row" in html
    assert "1 failures" not in html
    assert "5 failures in a row; calls paused until" in html


def test_retry_all_from_the_queue_requeues_every_dead_job_of_the_system_and_shows_progress(client, owner):
    jobs = [helpers.dead_job() for _ in range(3)]
    other = helpers.dead_job(system=System.EMAIL)
    client.force_login(owner)
    response = client.post(reverse("queue_retry_all", args=["crm"]))
    assert response.status_code == 302
    assert {j.status for j in SyncJob.objects.filter(pk__in=[j.pk for j in jobs])} == {JobStatus.PENDING}
    assert SyncJob.objects.get(pk=other.pk).status == JobStatus.DEAD
    assert "0 of 3" in client.get(response.url).content.decode()


def _dead_jobs(system: str, n: int, *, customer=None) -> list:
    jobs = [helpers.dead_job(customer, system=system) for _ in range(n)]
    for age, job in enumerate(jobs):  # distinct finish times: the newest is the last made
        type(job).objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(minutes=len(jobs) - age))
    return jobs


def test_each_system_counts_its_own_dead_jobs_and_shows_its_newest_first(owner):
    crm = _dead_jobs(System.CRM, ROWS_PER_GROUP + 2)
    email = _dead_jobs(System.EMAIL, 1)
    groups = {g.key: g for g in action_items_for(user=owner).groups}
    assert (groups["dead_job:crm"].count, groups["dead_job:email"].count) == (ROWS_PER_GROUP + 2, 1)
    assert [i.object_id for i in groups["dead_job:crm"].items] == [str(j.pk) for j in reversed(crm[2:])]
    assert [i.object_id for i in groups["dead_job:email"].items] == [str(email[0].pk)]
    assert {"dead_job:support", "dead_job:community"}.isdisjoint(groups)


def test_retry_all_is_offered_only_for_a_system_with_more_than_one_dead_job(owner):
    _dead_jobs(System.CRM, 2)
    _dead_jobs(System.EMAIL, 1)
    groups = {g.key: g for g in action_items_for(user=owner).groups}
    assert groups["dead_job:crm"].bulk_actions == ("retry_all",)
    assert groups["dead_job:email"].bulk_actions == ()
    assert all(g.bulk_actions == () for g in action_items_for(user=owner, mine=True).groups)


def test_a_dead_job_of_a_restricted_customer_is_neither_shown_nor_counted_for_staff_without_a_grant(owner, finance):
    hidden = helpers.customer(restricted=True)
    _dead_jobs(System.CRM, 2, customer=hidden)
    shown = _dead_jobs(System.CRM, 1)
    group = _group(finance, "dead_job:crm")
    assert (group.count, [i.object_id for i in group.items]) == (1, [str(shown[0].pk)])
    assert _group(owner, "dead_job:crm").count == 3


def test_every_systems_dead_jobs_are_read_in_one_query(owner, django_assert_num_queries):
    for system in (System.CRM, System.SUPPORT, System.COMMUNITY, System.EMAIL):
        _dead_jobs(system, 2)
    ctx = QueueContext(user=owner)
    dead_job_items(ctx)  # permissions read and remembered on the user
    with django_assert_num_queries(1):
        groups = dead_job_items(QueueContext(user=owner))
    assert [len(g.items) for g in groups] == [2, 2, 2, 2]


def test_a_paused_system_asks_before_it_resumes(client, owner):
    SystemState.objects.create(system="crm", paused=True, paused_reason="Token rotation")
    client.force_login(owner)
    assert 'hx-confirm="Resume crm? Waiting work starts immediately."' in client.get(reverse("home")).content.decode()


def test_a_long_group_of_dead_jobs_offers_retry_all_and_links_to_the_rest_in_the_job_log(client, owner):
    _dead_jobs(System.CRM, ROWS_PER_GROUP + 1)
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    retry_all = reverse("queue_retry_all", args=["crm"])
    assert f'action="{retry_all}" hx-post="{retry_all}" hx-confirm="Retry all 6 dead crm jobs?"' in html
    assert f'<a href="{reverse("job_list")}?status=dead&amp;system=crm">see all in the job log</a>' in html
