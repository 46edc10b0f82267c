"""The busy screens' queries read through the indexes made for them, and the PostgreSQL-only
search indexes leave SQLite alone.

A query PostgreSQL can answer from an index still reads the whole table when its SQL stops
matching the index (another expression, an OR with a subquery, a filter outside a partial
index's condition). With sequential scans switched off the planner takes a matching index
whenever one exists, so each test here fails when a change breaks that match.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from action_queue.selectors import action_items_for
from customers import selectors
from customers.models import Customer, CustomerStatus, System
from tests.screens import helpers

pytestmark = pytest.mark.django_db

TRIGRAM_INDEXES = {"customer_email_trgm_idx", "customer_name_trgm_idx"}


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {row[0] for row in cursor.fetchall()}


def test_the_screens_indexes_exist_on_every_database():
    names = _index_names()
    assert {"customer_email_upper_idx", "customer_review_queue_idx", "invoice_failed_open_idx",
            "job_status_id_idx", "job_dead_queue_idx"} <= names
    assert "customer_email_idx" not in names  # replaced: email__iexact compares UPPER(email)


def test_the_trigram_indexes_exist_only_on_postgresql():
    names = _index_names()
    if connection.vendor == "postgresql":
        assert TRIGRAM_INDEXES <= names
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            assert cursor.fetchone()
    else:
        assert not TRIGRAM_INDEXES & names


# --- PostgreSQL: the plans ----------------------------------------------------------------


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # Undone when the test's transaction rolls back. Without sorts, a LIMIT of the newest rows
        # is answered only by an index in that order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _queries_of(run, *needles: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    found = [q["sql"] for q in captured.captured_queries if all(n in q["sql"] for n in needles)]
    assert found, f"no query containing {needles!r}"
    return found


def _assert_every_plan_uses(queries: list[str], index: str) -> None:
    for sql in queries:
        plan = _plan(sql)
        assert index in plan, f"{index} not used by:\n{sql}\n{plan}"


@pytest.mark.parametrize("field, index", [("email", "customer_email_trgm_idx"), ("name", "customer_name_trgm_idx")])
def test_searching_for_part_of_an_email_or_name_can_read_the_trigram_index(postgres, field, index):
    helpers.customer(email="ada.lovelace@example.com", name="Ada Lovelace")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    # the lookup customer_search() sends, alone: only the trigram index can answer it
    plan = Customer.objects.filter(**{f"{field}__icontains": "lovelace"}).order_by().explain()
    assert index in plan, plan


def test_an_exact_id_is_looked_up_through_the_id_indexes(postgres, owner):
    c = helpers.customer()
    queries = _queries_of(lambda: list(selectors.customer_search(user=owner, query=c.public_id)), "UNION")
    plan = _plan(queries[0])
    assert "customers_customer_public_id" in plan and "link_external_id_idx" in plan, plan


def test_an_email_ignoring_case_is_looked_up_through_the_upper_email_index(postgres):
    helpers.customer(email="Twin@Example.com")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    # the lookup of identity resolution (flag_email_conflicts) and support's ticket matching
    plan = Customer.objects.filter(email__iexact="twin@example.com").order_by().explain()
    assert "customer_email_upper_idx" in plan, plan


def test_the_queue_reads_failed_payments_reviews_and_dead_jobs_through_their_partial_indexes(postgres, owner):
    c = helpers.customer(status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
    helpers.billing_rows(c)
    for system in (System.CRM, System.EMAIL):
        helpers.dead_job(c, system=system)
    run = lambda: action_items_for(user=owner)  # noqa: E731
    _assert_every_plan_uses(_queries_of(run, 'FROM "billing_invoice"'), "invoice_failed_open_idx")
    _assert_every_plan_uses(_queries_of(run, '"customers_customer"."status" = \'needs_review\''), "customer_review_queue_idx")
    # each system's newest dead jobs come in index order; their count may use either status index
    _assert_every_plan_uses(_queries_of(run, 'FROM "sync_syncjob"', "LIMIT 5"), "job_dead_queue_idx")


def test_the_job_log_reads_jobs_of_one_status_and_the_unfinished_counts_through_a_status_index(postgres, client, owner):
    helpers.dead_job()
    client.force_login(owner)
    queries = _queries_of(lambda: client.get(reverse("job_list") + "?status=dead"), 'FROM "sync_syncjob"')
    by_status = [q for q in queries if '"sync_syncjob"."status"' in q and '"sync_syncjob"."id" IN (' not in q]
    assert len(by_status) == 3  # the page's ids, its capped count, the per-system counts
    for sql in by_status:
        plan = _plan(sql)
        # only jobs of those statuses are read: no scan that filters them out of every job
        assert "Seq Scan" not in plan and "Filter: ((status)" not in plan, plan
    page_ids = next(q for q in by_status if "ORDER BY" in q)
    assert "job_status_id_idx" in _plan(page_ids)  # read in the list's order: no sort of every dead job
