"""Every business action the trail promises leaves one explicit entry: who, when, from where,
under which correlation id, with the before and after that matter."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import staff_role_change
from audit.context import bind_correlation_id
from audit.models import AuditEvent
from billing.models import EventStatus
from billing.services import event_replay
from customers.services import customer_assign, customer_override_clear, customer_override_set
from sync.models import JobStatus
from sync.services import job_retry, jobs_retry_bulk, system_pause, system_resume
from sync.services.rules import mapping_rule_current, mapping_rule_edit
from tests.factories import CustomerFactory, StripeEventFactory, UserFactory
from tests.sync.helpers import make_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def correlation():
    return bind_correlation_id("corr-test-0001")


def _entry(action: str) -> AuditEvent:
    entry = AuditEvent.objects.filter(action=action).order_by("-id").first()
    assert entry is not None, f"no {action} entry"
    assert entry.correlation_id == "corr-test-0001" and entry.created_at <= timezone.now()
    return entry


def test_system_pause_and_resume_record_before_and_after(owner):
    system_pause(system="crm", actor=owner, reason="HubSpot migration", source="ui")
    system_resume(system="crm", actor=owner, source="command")
    paused, resumed = _entry("sync.system_pause"), _entry("sync.system_resume")
    assert paused.actor == owner and paused.changes["paused"] == [False, True]
    assert resumed.source == "command" and resumed.changes["paused_reason"] == "HubSpot migration"


def test_job_retry_and_bulk_retry(owner):
    job = make_job("crm", "upsert_contact")
    job.status, job.last_error = JobStatus.DEAD, "401 Unauthorized"
    job.save()
    job_retry(job=job, actor=owner, source="ui")
    entry = _entry("sync.job_retry")
    assert entry.changes["status"] == [JobStatus.DEAD, JobStatus.PENDING] and entry.customer == job.customer
    other = make_job("crm", "upsert_contact")
    other.status = JobStatus.DEAD
    other.save()
    jobs_retry_bulk(jobs=[other], actor=owner, source="ui")
    assert _entry("sync.jobs_retry_bulk").changes["jobs"] == [other.pk]


def test_event_replay(finance):
    event = StripeEventFactory(status=EventStatus.FAILED, payload={"id": "evt_x", "type": "invoice.paid",
                                                                   "data": {"object": {}}})
    event_replay(event=event, actor=finance, source="ui")
    assert _entry("event.replayed").changes["status"] == [EventStatus.FAILED, EventStatus.RECEIVED]


def test_mapping_rule_edit(owner):
    rules = dict(mapping_rule_current(system="crm").rules)
    mapping_rule_edit(system="crm", rules=rules, actor=owner, note="same rules, new version")
    entry = _entry("sync.mapping_rule_edit")
    assert set(entry.changes) >= {"before", "after", "version"}


def test_override_set_and_cleared(owner):
    customer = CustomerFactory()
    customer_override_set(customer=customer, status="active", reason="goodwill",
                          expires_at=timezone.now() + timedelta(days=1), actor=owner, source="ui")
    customer_override_clear(customer=customer, actor=owner, source="ui")
    assert _entry("customer.override_set").changes["after"]["status"] == "active"
    assert _entry("customer.override_clear").changes["before"] == "active"


def test_assignment_and_role_change(owner, finance):
    customer = CustomerFactory()
    customer_assign(customer=customer, assignee=finance, actor=owner, source="ui")
    assert _entry("customer.assign").changes["assigned_to"] == [None, finance.email]
    UserFactory(role="owner")
    staff_role_change(user=finance, role="support", actor=owner, source="ui")
    assert _entry("staff.role_changed").changes["role"] == ["finance", "support"]
