import pytest

from customers.models import ExternalLink
from sync.models import JobStatus, SyncJob
from tests.factories import CustomerFactory, StripeEventFactory
from tests.sync.helpers import billing_change

pytestmark = pytest.mark.django_db

TRIAL = {"status": "trial", "plan": "Pro", "mrr": 0, "currency": "usd"}
ACTIVE = {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"}
PAST_DUE = {"status": "past_due", "plan": "Pro", "mrr": 4900, "currency": "usd"}


def deliver(customer, before, after, event=None, *, capture):
    with capture(execute=True):
        return billing_change(customer, "invoice.paid", before, after, event)


def test_a_change_writes_the_jobs_the_rules_ask_for(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    jobs = deliver(customer, TRIAL, ACTIVE, capture=django_capture_on_commit_callbacks)
    assert sorted((j.system, j.action, j.payload.get("tag", "")) for j in jobs) == [
        ("crm", "upsert_contact", ""),
        ("email", "add_tag", "customer"),
        ("email", "remove_tag", "trial"),
        ("support", "upsert_user", ""),
    ]
    assert all(j.rule_version == 1 for j in jobs)


def test_replaying_an_event_adds_no_job(django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    event = StripeEventFactory(customer=customer)
    deliver(customer, ACTIVE, PAST_DUE, event, capture=django_capture_on_commit_callbacks)
    count = SyncJob.objects.count()
    again = deliver(customer, ACTIVE, PAST_DUE, event, capture=django_capture_on_commit_callbacks)
    assert again == [] and SyncJob.objects.count() == count


def test_without_credentials_jobs_run_in_sandbox_and_show_what_would_be_sent(django_capture_on_commit_callbacks):
    customer = CustomerFactory(email="ada@example.com")
    deliver(customer, ACTIVE, PAST_DUE, capture=django_capture_on_commit_callbacks)
    jobs = SyncJob.objects.all()
    assert {j.status for j in jobs} == {JobStatus.SUCCEEDED}
    ticket = jobs.get(action="create_ticket")
    call = ticket.attempt_log.get().request_summary["calls"][0]
    assert call["would_be"] == "zendesk" and call["request"]["ticket"]["priority"] == "high"
    assert "ada@example.com" not in str(ticket.attempt_log.get().request_summary)
    assert ExternalLink.objects.get(customer=customer, system="crm").provider == "sandbox"
