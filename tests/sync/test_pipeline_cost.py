"""What one event and one outbound job cost in database round trips.

The pipeline benchmark sends 50 events a second, each causing six jobs, to a two-core
machine: these ceilings catch a change that puts per-row queries back.
"""

from datetime import UTC, datetime

import pytest

from billing.models import EventStatus, StripeEvent
from billing.services import event_process
from customers.models import CustomerStatus, ExternalLink
from sync.models import JobStatus, SyncJob
from sync.services import job_run
from tests import stripe_events as se
from tests.sync import fakes
from tests.sync.helpers import customer_with_stripe, make_job

pytestmark = pytest.mark.django_db

EVENT_QUERIES = 25
# One read loads the job with everything its payload needs (customer, Stripe id, linked id).
JOB_QUERIES = 11  # with the rate limit's database bucket (no Redis), which takes 4 of them
JOB_QUERIES_NEW_LINK = 19


def subscription_created(stripe_customer_id: str) -> StripeEvent:
    """The benchmark's shape: a subscription starts for a customer billing never described before, so
    every tool hears of them: CRM contact, desk user, community access and two email tags (the
    status's and the plan's; no "trial" tag to take off, the email tool never had one)."""
    evt = se.event("customer.subscription.created", se.subscription(se.new_id("sub"), stripe_customer_id))
    return StripeEvent.objects.create(
        stripe_id=evt["id"], type=evt["type"], api_version=evt["api_version"], livemode=False,
        created=datetime.fromtimestamp(evt["created"], tz=UTC), payload=evt,
    )


def test_processing_an_event_that_causes_a_job_in_every_tool_stays_within_its_query_budget(
    django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    customer = customer_with_stripe(status=CustomerStatus.TRIAL, plan="")
    event = subscription_created(f"cus_{customer.public_id}")
    with django_capture_on_commit_callbacks(execute=False):
        with django_assert_max_num_queries(EVENT_QUERIES):
            assert event_process(event_id=event.pk) == EventStatus.PROCESSED
    jobs = SyncJob.objects.filter(source_event=event)
    assert jobs.count() == 5
    assert set(jobs.values_list("status", flat=True)) == {JobStatus.PENDING}
    assert all(job.enqueued_at is not None for job in jobs)  # the wake-up is published right after commit


def test_replaying_a_processed_event_writes_no_second_set_of_jobs(django_capture_on_commit_callbacks):
    customer = customer_with_stripe(status=CustomerStatus.TRIAL, plan="")
    event = subscription_created(f"cus_{customer.public_id}")
    with django_capture_on_commit_callbacks(execute=False):
        event_process(event_id=event.pk)
        StripeEvent.objects.filter(pk=event.pk).update(status=EventStatus.RECEIVED)  # a replay, or a redelivery
        event_process(event_id=event.pk)
    assert SyncJob.objects.filter(source_event=event).count() == 5


def test_running_one_job_stays_within_its_query_budget(serve, settings, django_assert_max_num_queries):
    settings.REDIS_URL = ""  # the same count whether or not this run has Redis
    serve(fakes.HubSpot())
    customer = customer_with_stripe()
    first, second = make_job("crm", "upsert_contact", customer), make_job("crm", "upsert_contact", customer)
    with django_assert_max_num_queries(JOB_QUERIES_NEW_LINK):
        assert job_run(job_id=first.pk, worker="worker-1") == "succeeded"
    link = ExternalLink.objects.get(customer=customer, system="crm")
    with django_assert_max_num_queries(JOB_QUERIES):  # the link is already there: nothing to write
        assert job_run(job_id=second.pk, worker="worker-1") == "succeeded"
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.external_id == link.external_id == first.external_id
    assert ExternalLink.objects.get(customer=customer, system="crm").updated_at == link.updated_at
