import io

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from sync.models import JobStatus, SyncJob
from tests.sync.helpers import make_job

pytestmark = pytest.mark.django_db


def test_retry_dead_dry_run_lists_the_plan_and_changes_nothing():
    job = make_job("crm", "upsert_contact")
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.DEAD, reason_code="auth_failed")
    out = io.StringIO()
    call_command("retry_dead", "--system", "crm", "--dry-run", stdout=out)
    assert f"#{job.pk} " in out.getvalue() and "would retry 1 of 1" in out.getvalue()
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.DEAD


def test_retry_dead_runs_them_and_records_who(django_capture_on_commit_callbacks):
    job = make_job("email", "add_tag", tag="customer")
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.DEAD)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retry_dead", "--reason", "", stdout=io.StringIO())
    assert SyncJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
    assert AuditEvent.objects.get(action="sync.jobs_retry_bulk").source == "command"


def test_sync_pause_and_resume_from_the_command_line():
    call_command("sync_pause", "crm", "--reason", "maintenance", stdout=io.StringIO())
    call_command("sync_pause", "crm", "--resume", stdout=io.StringIO())
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "sync.system_pause", "sync.system_resume"]
