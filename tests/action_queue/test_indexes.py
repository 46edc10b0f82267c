"""The queue reads through the partial indexes made for it; the indexes the busy screens need exist on
every database (the plans are PostgreSQL's: with sequential scans off, a query that stops matching
its index fails here)."""

import pytest

from action_queue.selectors import action_items_for
from customers.models import CustomerStatus, System
from tests import helpers
from tests.customers.test_indexes import index_names

pytestmark = pytest.mark.django_db


def test_the_screens_indexes_exist_on_every_database():
    names = index_names()
    assert {"customer_email_upper_idx", "customer_review_queue_idx", "invoice_failed_open_idx",
            "job_status_id_idx", "job_dead_queue_idx"} <= names
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
