"""The job log reads through the status indexes made for it (PostgreSQL's plans, with sequential scans
off: a query that stops matching its index fails here)."""

import pytest
from django.urls import reverse

from tests import helpers

pytestmark = pytest.mark.django_db


def test_the_job_log_reads_jobs_of_one_status_and_the_unfinished_counts_through_a_status_index(postgres, client, owner):
    helpers.dead_job()
    client.force_login(owner)
    queries = helpers.queries_of(lambda: client.get(reverse("job_list") + "?status=dead"), 'FROM "sync_syncjob"')
    by_status = [q for q in queries if '"sync_syncjob"."status"' in q and '"sync_syncjob"."id" IN (' not in q]
    assert len(by_status) == 3  # the page's ids, its capped count, the per-system counts
    for sql in by_status:
        plan = helpers.plan(sql)
        # only jobs of those statuses are read: no scan that filters them out of every job
        assert "Seq Scan" not in plan and "Filter: ((status)" not in plan, plan
    page_ids = next(q for q in by_status if "ORDER BY" in q)
    assert "job_status_id_idx" in helpers.plan(page_ids)  # read in the list's order: no sort of every dead job
