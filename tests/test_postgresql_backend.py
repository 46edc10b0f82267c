"""Switchboard's PostgreSQL backend: rows with JSON are inserted as VALUES, everything else as Django
does it, and the documents come back as they went in; statements a connection repeats are prepared."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer, CustomerStatus, CustomerStatusChange
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


# The read the test repeats: no other code makes it, so its prepared statement is the test's own.
OURS = 'SELECT "customers_customer"."id" AS "pk", "customers_customer"."mrr"'


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_the_connection_repeats_is_prepared_and_answers_with_its_own_parameters():
    customers = CustomerFactory.create_batch(6)
    assert not any(sql.startswith(OURS) for sql in _prepared_statements())

    found = [list(Customer.objects.filter(email=c.email).values_list("pk", "mrr", "status_reason"))
             for c in customers]

    # The prepared statement still takes each run's value.
    assert found == [[(c.pk, c.mrr, c.status_reason)] for c in customers]
    prepared = [sql for sql in _prepared_statements() if sql.startswith(OURS)]
    assert len(prepared) == 1 and "$1" in prepared[0]


def _options(**env: str) -> str:
    """The database options a process started with ``env`` (and no other choice of its own) connects with."""
    root = Path(__file__).resolve().parent.parent
    inherited = {k: v for k, v in os.environ.items() if k != "DATABASE_PREPARED_STATEMENTS"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c",
         "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; "
         "print(o.get('server_side_binding'), o.get('prepare_threshold'))"],
        cwd=root, env={**inherited, **env}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_prepared_statements_are_on_unless_the_environment_turns_them_off():
    assert _options() == "True 5"
    assert _options(DATABASE_PREPARED_STATEMENTS="false") == "None None"
