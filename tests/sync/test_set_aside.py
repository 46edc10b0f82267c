"""Setting a dead job aside ("won't fix", with a note): who may, what is refused, what it changes
and how to undo it."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from action_queue.selectors import action_items_for
from audit.models import AuditEvent
from monitoring.alerts import alerts_evaluate
from sync.errors import SyncError
from sync.models import JobStatus, ReasonCode, SyncJob
from sync.services import job_retry, job_set_aside, job_set_aside_undo
from tests.factories import SyncJobFactory

pytestmark = pytest.mark.django_db
NOTE = "HubSpot deleted this contact on purpose; nothing to sync"


def dead(system: str = "crm") -> SyncJob:
    return SyncJobFactory(system=system, status=JobStatus.DEAD, reason_code=ReasonCode.VALIDATION,
                          last_error="400 property does not exist", finished_at=timezone.now())


# --- the service ----------------------------------------------------------------------------


def test_setting_a_dead_job_aside_keeps_the_note_and_who_and_is_audited(owner):
    job = job_set_aside(job=dead(), actor=owner, note=f"  {NOTE}  ")
    assert (job.status, job.set_aside_note, job.set_aside_by) == (JobStatus.SET_ASIDE, NOTE, owner)
    entry = AuditEvent.objects.get(action="sync.job_set_aside")
    assert entry.actor == owner and entry.object_id == str(job.pk) and entry.customer == job.customer
    assert entry.changes == {"job": job.pk, "status": ["dead", "set_aside"], "note": NOTE,
                             "reason_code": "validation"}


@pytest.mark.parametrize("status", [JobStatus.PENDING, JobStatus.RETRYING, JobStatus.RUNNING,
                                    JobStatus.SUCCEEDED, JobStatus.SET_ASIDE])
def test_only_a_dead_job_can_be_set_aside(owner, status):
    job = SyncJobFactory(status=status)
    with pytest.raises(SyncError, match="Only a dead job can be set aside"):
        job_set_aside(job=job, actor=owner, note=NOTE)
    assert SyncJob.objects.get(pk=job.pk).status == status and not AuditEvent.objects.exists()


@pytest.mark.parametrize("note", ["", "   ", "x" * 301])
def test_a_set_aside_needs_a_note_of_sensible_length(owner, note):
    job = dead()
    with pytest.raises(SyncError):
        job_set_aside(job=job, actor=owner, note=note)
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.DEAD and not AuditEvent.objects.exists()


def test_a_job_retried_meanwhile_is_not_set_aside(owner):
    job = dead()
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.PENDING)  # another tab retried it
    with pytest.raises(SyncError, match="changed while you were looking"):
        job_set_aside(job=job, actor=owner, note=NOTE)
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.PENDING and not AuditEvent.objects.exists()


def test_undo_puts_it_back_as_dead_and_is_audited(owner):
    job = job_set_aside(job=dead(), actor=owner, note=NOTE)
    job = job_set_aside_undo(job=job, actor=owner)
    assert (job.status, job.set_aside_note, job.set_aside_at) == (JobStatus.DEAD, "", None)
    assert AuditEvent.objects.get(action="sync.job_set_aside_undo").changes["note"] == NOTE
    with pytest.raises(SyncError, match="not set aside"):
        job_set_aside_undo(job=job, actor=owner)


def test_a_set_aside_job_can_be_retried_which_clears_the_set_aside(owner, django_capture_on_commit_callbacks):
    job = job_set_aside(job=dead(), actor=owner, note=NOTE)
    with django_capture_on_commit_callbacks(execute=True):
        job_retry(job=job, actor=owner)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.set_aside_note == "" and job.set_aside_by is None
    assert AuditEvent.objects.get(action="sync.job_retry").changes["status"] == ["set_aside", "pending"]


# --- what it changes ------------------------------------------------------------------------


def test_a_set_aside_job_leaves_the_dead_job_rule_and_the_action_queue(owner, settings):
    settings.ALERT_NO_WEBHOOK_MINUTES = 0
    kept, aside = dead(), dead()
    job_set_aside(job=aside, actor=owner, note=NOTE)
    incident = next(i for i in alerts_evaluate() if i.rule == "dead_jobs")
    assert incident.facts == [str(kept.pk)]
    items = [i for g in action_items_for(user=owner).groups if g.kind == "dead_job" for i in g.items]
    assert [i.object_id for i in items] == [str(kept.pk)]
    group = next(g for g in action_items_for(user=owner).groups if g.kind == "dead_job")
    assert group.count == 1


def test_the_job_log_shows_set_aside_jobs_with_their_note_and_filters_them(client, owner):
    kept, aside = dead(), dead()
    job_set_aside(job=aside, actor=owner, note=NOTE)
    client.force_login(owner)
    page = client.get(reverse("job_list"), {"status": "set_aside"}).content.decode()
    assert f"#{aside.pk} " in page and f"#{kept.pk} " not in page
    assert "set aside</span>" in page and "Won't fix: HubSpot deleted this contact" in page
    dead_page = client.get(reverse("job_list"), {"status": "dead"}).content.decode()
    assert f"#{kept.pk} " in dead_page and f"#{aside.pk} " not in dead_page


def test_the_job_detail_says_who_set_it_aside_and_why_and_offers_undo(client, owner):
    job = job_set_aside(job=dead(), actor=owner, note=NOTE)
    client.force_login(owner)
    page = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert "Set aside (won't fix)</strong> by owner@switchboard.test" in page and NOTE in page
    assert reverse("job_set_aside_undo", args=[job.pk]) in page
    assert reverse("job_retry", args=[job.pk]) in page


def test_the_customers_page_shows_a_system_whose_only_job_was_set_aside_as_such(client, owner):
    job = job_set_aside(job=dead(), actor=owner, note=NOTE)
    client.force_login(owner)
    page = client.get(reverse("customer_detail", args=[job.customer.public_id])).content.decode()
    table = page[page.index('id="sync-state"'):]
    assert '<th scope="row">CRM</th><td><span class="badge text-bg-secondary">set aside</span>' in table


# --- the views ------------------------------------------------------------------------------


def test_the_owner_sets_a_dead_job_aside_from_its_page(client, owner):
    job = dead()
    client.force_login(owner)
    assert reverse("job_set_aside", args=[job.pk]) in client.get(reverse("job_detail", args=[job.pk])).content.decode()
    response = client.post(reverse("job_set_aside", args=[job.pk]), {"note": NOTE})
    assert response.status_code == 302 and response["Location"] == reverse("job_detail", args=[job.pk])
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.SET_ASIDE


def test_with_htmx_a_set_aside_answers_with_a_client_redirect(client, owner):
    job = dead()
    client.force_login(owner)
    response = client.post(reverse("job_set_aside", args=[job.pk]), {"note": NOTE}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"] == reverse("job_detail", args=[job.pk])


def test_without_a_note_the_form_comes_back_with_the_error_and_nothing_changes(client, owner):
    job = dead()
    client.force_login(owner)
    response = client.post(reverse("job_set_aside", args=[job.pk]), {"note": " "}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "Say why this job will not be fixed" in body and "<html" not in body  # the form's region only
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.DEAD and not AuditEvent.objects.exists()


def test_finance_may_set_aside_crm_jobs_but_not_support_desk_jobs(client, finance):
    crm, desk = dead("crm"), dead("support")
    client.force_login(finance)
    assert client.post(reverse("job_set_aside", args=[crm.pk]), {"note": NOTE}).status_code == 302
    assert client.post(reverse("job_set_aside", args=[desk.pk]), {"note": NOTE}).status_code == 403
    assert client.post(reverse("job_set_aside_undo", args=[crm.pk])).status_code == 302
    assert SyncJob.objects.get(pk=desk.pk).status == JobStatus.DEAD
    assert SyncJob.objects.get(pk=crm.pk).status == JobStatus.DEAD  # set aside, then undone


def test_support_may_not_set_aside_a_crm_job_and_sees_no_form(client, support):
    job = dead("crm")
    client.force_login(support)
    assert reverse("job_set_aside", args=[job.pk]) not in client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert client.post(reverse("job_set_aside", args=[job.pk]), {"note": NOTE}).status_code == 403
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.DEAD


def test_a_set_aside_without_the_csrf_token_is_refused(owner):
    job = dead()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    assert strict.post(reverse("job_set_aside", args=[job.pk]), {"note": NOTE}).status_code == 403
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.DEAD


def test_setting_aside_a_job_that_is_not_dead_says_so(client, owner):
    job = SyncJobFactory(status=JobStatus.SUCCEEDED)
    client.force_login(owner)
    response = client.post(reverse("job_set_aside", args=[job.pk]), {"note": NOTE}, follow=True)
    assert "Only a dead job can be set aside; this one is succeeded." in response.content.decode()
