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
    queries = helpers.queries_of(lambda: RULES[rule].check(timezone.now()), f'FROM "{table}"')
    for sql in queries:
        if '"id" = ' in sql and "LIMIT 21" in sql:
            continue  # one row by its primary key (the newest dead job's details)
        plan = helpers.plan(sql)
        assert index in plan, f"{index} not used by:\n{sql}\n{plan}"
