"""The queue reads through the partial indexes made for it; the indexes the busy screens need exist on
every database (the plans are PostgreSQL's: with sequential scans off, a query that stops matching
its index fails here)."""

import pytest

from action_queue.selectors import action_items_for
from billing.models import EventStatus
from customers.models import CustomerStatus, System
from sync.models import JobStatus, SyncJob
from tests import helpers
from tests.customers.test_indexes import index_names
from tests.factories import StripeEventFactory

pytestmark = pytest.mark.django_db


def test_the_screens_indexes_exist_on_every_database():
    names = index_names()
    assert {"customer_email_upper_idx", "customer_review_queue_idx", "invoice_failed_open_idx",
            "job_status_id_idx", "job_dead_queue_idx", "job_access_open_idx",
            "event_failed_queue_idx"} <= names
    assert "customer_email_idx" not in names  # replaced: email__iexact compares UPPER(email)


def test_the_queue_reads_failed_payments_reviews_and_dead_jobs_through_their_partial_indexes(postgres, owner):
    c = helpers.customer(status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
    helpers.billing_rows(c)
    for system in (System.CRM, System.EMAIL):
        helpers.dead_job(c, system=system)
    run = lambda: action_items_for(user=owner)  # noqa: E731
    helpers.assert_every_plan_uses(helpers.queries_of(run, 'FROM "billing_invoice"'), "invoice_failed_open_idx")
    helpers.assert_every_plan_uses(helpers.queries_of(run, '"customers_customer"."status" = \'needs_review\''),
                                   "customer_review_queue_idx")
    # each system's newest dead jobs come in index order; their count may use either status index (the
    # support queue's paying-customers-without-access read is a join of its own, by system and status)
    dead_jobs = helpers.queries_of(run, 'FROM "sync_syncjob"', "LIMIT 5", '"sync_syncjob"."status" = \'dead\'')
    helpers.assert_every_plan_uses(dead_jobs, "job_dead_queue_idx")


def _pages(queries: list[str]) -> list[str]:
    """The newest rows of a group: the read that should stop after five index entries."""
    return [sql for sql in queries if sql.rstrip().endswith("LIMIT 5")]


def test_the_newest_failed_payments_events_and_missing_accesses_come_in_index_order(postgres, owner):
    """These groups are shown newest first; without an index in that order every open row is read and
    sorted on each refresh (7,905 failed invoices: 6 ms; 2,500 stuck grants: 8 ms), and the failed
    events' count read each row for when it last changed (250 rows: 4.5 ms)."""
    c = helpers.customer()
    helpers.billing_rows(c)
    SyncJob.objects.create(customer=c, system=System.COMMUNITY, action="grant_access", idempotency_key="access:1",
                           status=JobStatus.DEAD, attempts=5, last_error="503", payload={"spaces": []})
    StripeEventFactory(status=EventStatus.FAILED, customer=c)
    run = lambda: action_items_for(user=owner)  # noqa: E731
    for needle, index in (('FROM "billing_invoice"', "invoice_failed_open_idx"),
                          ("\"sync_syncjob\".\"action\" = 'grant_access'", "job_access_open_idx"),
                          ('FROM "billing_stripeevent"', "event_failed_queue_idx")):
        pages = _pages(helpers.queries_of(run, needle))
        assert pages, needle
        for sql in pages:
            plan = helpers.plan(sql)
            assert index in plan and "Sort" not in plan, f"{sql}\n{plan}"
    counted = helpers.queries_of(run, "COUNT(", "'grant_access'")
    helpers.assert_every_plan_uses(counted, "job_access_open_idx")
    # (Whether it reads only the index depends on the visibility map, which a test's new rows never have.)
    helpers.assert_every_plan_uses(counted, "event_failed_queue_idx")
