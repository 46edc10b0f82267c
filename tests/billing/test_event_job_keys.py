"""An event's jobs are keyed by the event. A new event's keys cannot be taken yet, so they are not
read; a replayed event's, or a retried one's, are: no job is ever written twice."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import EventStatus
from billing.services.processing import event_process, event_replay
from customers.models import Customer, CustomerStatus, System
from sync.models import SyncJob
from sync.services.outbox import idempotency_key
from tests.billing.stored import subscription_created
from tests.factories import SyncJobFactory
from tests.sync.helpers import customer_with_stripe

pytestmark = pytest.mark.django_db


def _key_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries
            if q["sql"].startswith("SELECT") and 'FROM "sync_syncjob"' in q["sql"] and "idempotency_key" in q["sql"]]


def test_a_new_event_writes_its_jobs_without_reading_their_keys(django_capture_on_commit_callbacks):
    event = subscription_created(customer_with_stripe(status=CustomerStatus.TRIAL, plan=""))

    with django_capture_on_commit_callbacks(execute=False), CaptureQueriesContext(connection) as queries:
        assert event_process(event_id=event.pk) == EventStatus.PROCESSED

    assert _key_reads(queries) == []
    assert SyncJob.objects.filter(source_event=event).count() == 5


def test_a_replayed_event_reads_its_keys_and_writes_no_job_again(django_capture_on_commit_callbacks):
    customer = customer_with_stripe(status=CustomerStatus.TRIAL, plan="")
    event = subscription_created(customer)
    with django_capture_on_commit_callbacks(execute=False):
        event_process(event_id=event.pk)
        jobs = set(SyncJob.objects.values_list("pk", flat=True))
        # As before the event, so that applying it again asks for the same jobs.
        Customer.objects.filter(pk=customer.pk).update(plan="", mrr=0, last_event_at=None)

        with CaptureQueriesContext(connection) as queries:
            assert event_replay(event=event, source="ui") == EventStatus.PROCESSED

    assert len(_key_reads(queries)) == 1
    assert set(SyncJob.objects.values_list("pk", flat=True)) == jobs


def test_a_new_event_whose_key_is_taken_fails_once_and_its_retry_writes_each_job_once(
        django_capture_on_commit_callbacks):
    customer = customer_with_stripe(status=CustomerStatus.TRIAL, plan="")
    event = subscription_created(customer)
    # One of its keys taken by a job no try of the event wrote (a restored backup, say).
    key = idempotency_key(cause=event.stripe_id, customer=customer, system=System.CRM, action="upsert_contact")
    SyncJobFactory(idempotency_key=key, customer=customer, system=System.CRM, action="upsert_contact")

    with django_capture_on_commit_callbacks(execute=False):
        assert event_process(event_id=event.pk) == EventStatus.FAILED
        assert SyncJob.objects.filter(source_event=event).count() == 0  # the try wrote nothing
        assert event_process(event_id=event.pk) == EventStatus.PROCESSED  # the retry reads the keys

    assert SyncJob.objects.filter(idempotency_key=key).count() == 1
    assert SyncJob.objects.filter(source_event=event).count() == 4
