"""Switchboard's PostgreSQL backend: rows with JSON are inserted as VALUES, everything else as Django
does it, and the documents come back as they went in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import CustomerStatus, CustomerStatusChange
from sync.models import SyncAttempt
from tests.factories import CustomerFactory, SyncJobFactory

pytestmark = pytest.mark.django_db

# Quotes, backslashes, braces and commas: what an array literal has to escape.
AWKWARD = {"text": 'she said "hi", then \\ left {a,b}', "nested": [{"k": "é ✓"}, None, 1.5], "empty": ""}


@pytest.fixture(autouse=True)
def postgres():
    if connection.vendor != "postgresql":
        print("skipping: the backend under test is the PostgreSQL one")
        pytest.skip("the backend under test is the PostgreSQL one")


def _insert(model, objs) -> str:
    with CaptureQueriesContext(connection) as queries:
        model.objects.bulk_create(objs)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    return inserts[0]


def test_the_settings_name_switchboards_backend():
    assert connection.ops.compiler_module == "config.postgresql.compiler"


def test_rows_with_json_are_inserted_as_values_and_read_back_unchanged():
    job = SyncJobFactory()
    attempts = [SyncAttempt(job=job, number=n, started_at=timezone.now(), outcome="ok",
                            request_summary={**AWKWARD, "n": n}, response_summary={"calls": [AWKWARD]})
                for n in (1, 2, 3)]

    sql = _insert(SyncAttempt, attempts)

    assert "UNNEST" not in sql and "VALUES" in sql
    stored = list(SyncAttempt.objects.filter(job=job).order_by("number")
                  .values_list("request_summary", "response_summary"))
    assert stored == [({**AWKWARD, "n": n}, {"calls": [AWKWARD]}) for n in (1, 2, 3)]


def test_rows_without_json_keep_djangos_unnest():
    customers = CustomerFactory.create_batch(3)
    changes = [CustomerStatusChange(customer=c, from_status=CustomerStatus.TRIAL, to_status=CustomerStatus.ACTIVE,
                                    reason='paid "in full"') for c in customers]

    sql = _insert(CustomerStatusChange, changes)

    assert "UNNEST" in sql
    assert CustomerStatusChange.objects.filter(customer__in=customers, reason='paid "in full"').count() == 3
