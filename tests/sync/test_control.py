"""Pause switches, retries by hand (with a dry run) and versioned mapping rules."""

from collections import Counter

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from customers.models import Customer
from sync.models import JobStatus, MappingRule, SyncJob
from sync.services import (SyncError, job_retry, jobs_retry_bulk, mapping_rule_edit, system_pause, system_resume,
                           system_states)
from tests.sync import fakes
from tests.sync.helpers import billing_change, customer_with_stripe, drain, make_job, run

pytestmark = pytest.mark.django_db

ACTIVE = {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"}
CANCELED = {**ACTIVE, "status": "canceled", "mrr": 0}


def deliver(customer, before, after, capture):
    with capture(execute=True):
        return billing_change(customer, "customer.subscription.updated", before, after)


def test_pause_deliver_resume_the_jobs_wait_then_drain(serve, owner, django_capture_on_commit_callbacks):
    hub = serve(fakes.HubSpot())
    system_pause(system="crm", actor=owner, reason="HubSpot migration", source="ui")
    customers = [customer_with_stripe() for _ in range(3)]
    for customer in customers:
        deliver(customer, ACTIVE, CANCELED, django_capture_on_commit_callbacks)
    crm = SyncJob.objects.filter(system="crm")
    assert set(crm.values_list("status", flat=True)) == {JobStatus.PENDING} and hub.calls == []
    states = system_states()
    assert states["crm"].paused and crm.first().display_status(states) == "paused"
    assert not SyncJob.objects.filter(system="email").open().exists()  # the rest keeps working
    with django_capture_on_commit_callbacks(execute=True):
        system_resume(system="crm", actor=owner, source="ui")
    assert set(crm.values_list("status", flat=True)) == {JobStatus.SUCCEEDED} and len(hub.contacts) == 3
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "sync.system_pause", "sync.system_resume"]


def test_pausing_all_holds_every_system_and_the_sweeper_skips_them(owner, django_capture_on_commit_callbacks):
    system_pause(system="all", actor=owner, reason="Incident", source="ui")
    deliver(customer_with_stripe(), ACTIVE, CANCELED, django_capture_on_commit_callbacks)
    from sync.services import jobs_sweep

    assert jobs_sweep()["enqueued"] == 0
    assert not SyncJob.objects.exclude(status=JobStatus.PENDING).exists()
    with django_capture_on_commit_callbacks(execute=True):
        system_resume(system="all", actor=owner, source="ui")
    assert not SyncJob.objects.open().exists()


def test_pause_needs_a_reason_and_refuses_twice(owner):
    with pytest.raises(SyncError, match="Say why"):
        system_pause(system="crm", actor=owner, reason=" ", source="ui")
    system_pause(system="crm", actor=owner, reason="x", source="ui")
    with pytest.raises(SyncError, match="already paused"):
        system_pause(system="crm", actor=owner, reason="x", source="ui")
    with pytest.raises(SyncError, match="not a system"):
        system_resume(system="stripe", actor=owner, source="ui")


def test_retrying_a_dead_job_runs_it_again_with_the_same_key_and_is_audited(serve, owner,
                                                                            django_capture_on_commit_callbacks):
    kit = serve(fakes.Kit())
    kit.force = (401, {"errors": ["The access token is invalid"]})
    job = make_job("email", "add_tag", tag="customer")
    run(job)
    assert job.status == JobStatus.DEAD
    kit.force = None
    key = job.idempotency_key
    with django_capture_on_commit_callbacks(execute=True):
        job_retry(job=job, actor=owner, source="ui")
    job.refresh_from_db()
    assert (job.status, job.idempotency_key, job.attempt_log.count()) == (JobStatus.SUCCEEDED, key, 2)
    assert AuditEvent.objects.get(action="sync.job_retry").actor == owner
    with pytest.raises(SyncError, match="succeeded already"):
        job_retry(job=job, actor=owner, source="ui")


def test_bulk_retry_dry_run_says_per_job_what_would_happen_and_changes_nothing(owner):
    customer = customer_with_stripe(plan="Team", status="active", mrr=9900)
    stale = make_job("crm", "upsert_contact", customer, plan="Pro", status="past_due")
    same = make_job("email", "add_tag", customer, tag="customer")
    done = make_job("email", "add_tag", customer_with_stripe(), tag="customer")
    superseded = make_job("support", "upsert_user", customer)
    SyncJob.objects.filter(pk__in=[stale.pk, same.pk, superseded.pk]).update(status=JobStatus.DEAD)
    SyncJob.objects.filter(pk=done.pk).update(status=JobStatus.SUCCEEDED)
    later = make_job("support", "upsert_user", customer)
    SyncJob.objects.filter(pk=later.pk).update(status=JobStatus.SUCCEEDED)
    lines = jobs_retry_bulk(jobs=SyncJob.objects.exclude(pk=later.pk), actor=owner, source="ui", dry_run=True)
    text = {line.job_id: str(line) for line in lines}
    assert "would change" in text[stale.pk] and "plan Pro to Team" in text[stale.pk] and "past_due to active" in text[stale.pk]
    assert "will do" in text[same.pk] and "already done" in text[done.pk] and "already done" in text[superseded.pk]
    assert SyncJob.objects.filter(status=JobStatus.DEAD).count() == 3 and not AuditEvent.objects.exists()


def test_bulk_retry_executes_only_what_is_missing_paced_by_the_provider_rate(owner, settings):
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "sandbox": (10, 1)}
    jobs = [make_job("email", "add_tag", tag=f"t{n}") for n in range(30)]
    SyncJob.objects.update(status=JobStatus.DEAD)
    SyncJob.objects.filter(pk=jobs[0].pk).update(status=JobStatus.SUCCEEDED)
    with time_machine.travel(timezone.now(), tick=False):
        lines = jobs_retry_bulk(jobs=SyncJob.objects.all(), actor=owner, source="ui")
        retried = SyncJob.objects.filter(status=JobStatus.PENDING).order_by("next_attempt_at")
        spread = (retried.last().next_attempt_at - retried.first().next_attempt_at).total_seconds()
        per_second = Counter(retried.values_list("next_attempt_at", flat=True))
    assert sum(line.verdict == "will do" for line in lines) == 29 and retried.count() == 29
    assert spread == 2.0 and sorted(per_second.values()) == [9, 10, 10]  # 29 jobs at 10 a second
    audit = AuditEvent.objects.get(action="sync.jobs_retry_bulk")
    assert len(audit.changes["jobs"]) == 29 and audit.actor == owner


def test_editing_rules_adds_a_version_keeps_the_old_one_and_new_jobs_record_it(owner,
                                                                                django_capture_on_commit_callbacks):
    old = MappingRule.objects.get(system="email", version=1)
    rules = {**old.rules, "status_tags": {**old.rules["status_tags"], "canceled": ["churned", "win-back"]}}
    rule = mapping_rule_edit(system="email", rules=rules, actor=owner, note="win-back campaign")
    assert (rule.version, rule.created_by) == (2, owner)
    assert MappingRule.objects.get(system="email", version=1).rules == old.rules
    deliver(customer_with_stripe(), ACTIVE, CANCELED, django_capture_on_commit_callbacks)
    tags = SyncJob.objects.filter(system="email", action="add_tag")
    assert sorted(tags.values_list("payload__tag", flat=True)) == ["churned", "win-back"]
    assert set(tags.values_list("rule_version", flat=True)) == {2}
    assert AuditEvent.objects.get(action="sync.mapping_rule_edit").changes["version"] == 2


def test_invalid_rules_are_refused_in_plain_words(owner):
    with pytest.raises(SyncError, match="'gold' in status_tags is not a customer status"):
        mapping_rule_edit(system="email", rules={"status_tags": {"gold": ["x"]}}, actor=owner)
    with pytest.raises(SyncError, match="priority must be one of"):
        mapping_rule_edit(system="support", rules={"tickets": {"past_due": {"subject": "x", "priority": "asap"}}},
                          actor=owner)
    assert MappingRule.objects.filter(version__gt=1).count() == 0


def test_cancellation_revokes_community_access_and_a_new_plan_grants_its_spaces(owner,
                                                                                django_capture_on_commit_callbacks):
    rules = {"access_statuses": ["active"], "plan_spaces": {"Team": [7, 8], "*": [7]}}
    mapping_rule_edit(system="community", rules=rules, actor=owner)
    customer = customer_with_stripe()
    deliver(customer, ACTIVE, {**ACTIVE, "plan": "Team"}, django_capture_on_commit_callbacks)
    deliver(customer, {**ACTIVE, "plan": "Team"}, CANCELED, django_capture_on_commit_callbacks)
    community = SyncJob.objects.filter(system="community").order_by("pk")
    assert [(j.action, j.payload.get("spaces")) for j in community] == [("grant_access", [7, 8]), ("revoke_access", None)]
    assert Customer.objects.count() == 1
