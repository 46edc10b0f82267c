"""The rules run every few seconds: each reads through an index, never a whole table.

With sequential scans switched off PostgreSQL takes a matching index whenever one exists, so
these fail when a rule's query stops matching its index (as the screens' index tests do).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from monitoring.rules import RULES
from sync.models import JobStatus, SyncAttempt
from tests import helpers
from tests.factories import SyncJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def postgres():
    if connection.vendor != "postgresql":
        print("skipping: query plans are PostgreSQL's")
        pytest.skip("query plans are PostgreSQL's")


@pytest.mark.parametrize("rule, table, index", [
    ("backlog", "sync_syncjob", "job_status_next_idx"),  # waiting jobs only, by how long they have been due
    ("job_failures", "sync_syncattempt", "attempt_started_idx"),  # the last minutes' attempts only
    ("dead_jobs", "sync_syncjob", "job_status_id_idx"),  # dead job ids, newest first
])
def test_a_rule_reads_its_rows_through_its_index(rule, table, index):
    job = SyncJobFactory(status=JobStatus.PENDING, next_attempt_at=timezone.now() - timedelta(minutes=11))
    SyncJobFactory(status=JobStatus.DEAD)
    SyncAttempt.objects.create(job=job, number=1, started_at=timezone.now(), outcome="transient")
    # What a rule meets in a running system: days of attempts, a few of them in its window. Planned
    # from statistics of these rows, not of what other tests left in this database (rolled back after).
    week_ago = timezone.now() - timedelta(days=7)
    SyncAttempt.objects.bulk_create(SyncAttempt(job=job, number=n, started_at=week_ago, outcome="ok")
                                    for n in range(2, 2000))
    with connection.cursor() as cursor:
        cursor.execute('ANALYZE "sync_syncjob", "sync_syncattempt"')
    queries = helpers.queries_of(lambda: RULES[rule].check(timezone.now()), f'FROM "{table}"')
    for sql in queries:
        if '"id" = ' in sql and "LIMIT 21" in sql:
            continue  # one row by its primary key (the newest dead job's details)
        plan = helpers.plan(sql)
        assert index in plan, f"{index} not used by:\n{sql}\n{plan}"
