"""One UPDATE writes each job its own value, whatever the column's type; the other jobs keep theirs."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sync.models import SyncJob
from sync.services.columns import per_job
from tests.sync.helpers import make_job

pytestmark = pytest.mark.django_db


def test_each_job_gets_its_own_value_in_one_update():
    jobs = [make_job("crm", "upsert_contact") for _ in range(4)]
    mine, other = jobs[:3], jobs[3]
    now = timezone.now()
    texts = {mine[0].pk: "it's 'quoted'", mine[1].pk: "", mine[2].pk: "ünïcode; DROP TABLE x"}
    times = {job.pk: now + timedelta(seconds=n * 7) for n, job in enumerate(mine)}
    other_before = SyncJob.objects.values_list("last_error", "next_attempt_at").get(pk=other.pk)

    with CaptureQueriesContext(connection) as queries:
        SyncJob.objects.filter(pk__in=[job.pk for job in jobs]).update(
            last_error=per_job(texts, "last_error"), next_attempt_at=per_job(times, "next_attempt_at"))

    assert len(queries) == 1
    rows = dict((pk, (text, at)) for pk, text, at in SyncJob.objects.values_list("pk", "last_error", "next_attempt_at"))
    assert {pk: rows[pk][0] for pk in texts} == texts
    assert {pk: rows[pk][1] for pk in times} == times
    assert rows[other.pk] == other_before  # not named: as it was


def test_one_value_for_every_job_is_written_as_a_plain_value():
    jobs = [make_job("crm", "upsert_contact") for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        SyncJob.objects.filter(pk__in=[job.pk for job in jobs]).update(
            external_id=per_job({job.pk: "same" for job in jobs}, "external_id"))
    assert "CASE" not in queries[0]["sql"]
    assert set(SyncJob.objects.values_list("external_id", flat=True)) == {"same"}
