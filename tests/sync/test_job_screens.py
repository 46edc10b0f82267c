"""The job log and the systems page: a job's attempts, filtering, retries, pauses, and who may do what."""

import re

import pytest
from django.urls import reverse

from customers.models import System
from sync.models import JobStatus, SyncJob, SystemState
from tests import helpers

pytestmark = pytest.mark.django_db


def test_job_detail_shows_attempts_with_secrets_and_personal_data_redacted(client, support):
    job = helpers.dead_job(system=System.SUPPORT)
    # The shapes the executor stores; "body" would be a ticket's text, redacted like any personal data.
    helpers.attempt(job, request_summary={"url": "https://x.zendesk.com/api", "api_key": "zd-secret",
                                          "calls": [{"request": {"user": {"email": "ada@example.com"}}}]},
                    response_summary={"calls": [{"status": 401, "response": {"error": "Couldn't authenticate you"}}]})
    client.force_login(support)
    html = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "Couldn&#x27;t authenticate you" in html or "Couldn't authenticate you" in html
    assert "zd-secret" not in html and "ada@example.com" not in html
    assert reverse("job_retry", args=[job.pk]) in html


def test_job_list_filters_by_status_and_system(client, owner):
    dead = helpers.dead_job(system=System.EMAIL)
    other = helpers.dead_job(system=System.CRM)
    client.force_login(owner)
    html = client.get(reverse("job_list"), {"status": "dead", "system": "email"}).content.decode()
    assert reverse("job_detail", args=[dead.pk]) in html and reverse("job_detail", args=[other.pk]) not in html


def test_retry_all_dead_shows_the_plan_then_requeues_and_follows_progress(client, owner):
    jobs = [helpers.dead_job() for _ in range(3)]
    client.force_login(owner)
    url = reverse("system_retry_dead", args=["crm"])
    html = client.get(url).content.decode()
    assert "3 dead jobs" in html and "Retry 3 jobs" in html
    response = client.post(url)
    assert response.status_code == 302
    assert all(SyncJob.objects.get(pk=j.pk).status == JobStatus.PENDING for j in jobs)
    progress = client.get(response.url).content.decode()
    assert "0 of 3" in progress and "3 waiting" in progress


def test_retry_selected_refuses_jobs_of_systems_the_role_may_not_retry(client, finance):
    crm, support_job = helpers.dead_job(system=System.CRM), helpers.dead_job(system=System.SUPPORT)
    client.force_login(finance)
    assert client.post(reverse("jobs_retry_selected"), {"job": [crm.pk, support_job.pk]}).status_code == 403
    assert client.post(reverse("jobs_retry_selected"), {"job": [crm.pk]}).status_code == 302
    assert SyncJob.objects.get(pk=crm.pk).status == JobStatus.PENDING


def test_finance_sees_no_pause_control_and_a_crafted_pause_is_refused(client, finance):
    client.force_login(finance)
    html = client.get(reverse("system_list")).content.decode()
    assert reverse("system_pause", args=["crm"]) not in html
    assert client.post(reverse("system_pause", args=["crm"]), {"reason": "x"}).status_code == 403
    assert not SystemState.objects.filter(paused=True).exists()


def test_the_owner_pauses_and_resumes_a_system(client, owner):
    client.force_login(owner)
    client.post(reverse("system_pause", args=["crm"]), {"reason": "CRM maintenance"})
    assert SystemState.objects.get(system="crm").paused
    assert "CRM maintenance" in client.get(reverse("system_list")).content.decode()
    client.post(reverse("system_resume", args=["crm"]))
    assert not SystemState.objects.get(system="crm").paused


def test_an_attempts_outcome_reads_as_its_message_or_else_its_reasons_name(client, owner):
    job = helpers.dead_job(system=System.CRM)
    helpers.attempt(job, number=1, error_class="validation",
                    message="hubspot answered 422: rejected as invalid")
    helpers.attempt(job, number=2, outcome="transient", status_code=None, error_class="timeout", message="")
    client.force_login(owner)
    html = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    shown = re.findall(r'<div class="small text-danger">([^<]*)</div>', html)
    # Newest first; the code's name in front of a message that already says it read "validation hubspot ...".
    assert shown == ["Timed out", "hubspot answered 422: rejected as invalid"]
