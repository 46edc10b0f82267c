"""Customer search and identity read through the indexes made for them, and the PostgreSQL-only
search indexes leave SQLite alone.

A query PostgreSQL can answer from an index still reads the whole table when its SQL stops
matching the index (another expression, an OR with a subquery, a filter outside a partial
index's condition). With sequential scans switched off the planner takes a matching index
whenever one exists, so each plan test here fails when a change breaks that match.
"""

import pytest
from django.db import connection

from customers import selectors
from customers.models import Customer
from tests import helpers

pytestmark = pytest.mark.django_db

TRIGRAM_INDEXES = {"customer_email_trgm_idx", "customer_name_trgm_idx"}


def index_names() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {row[0] for row in cursor.fetchall()}


def test_the_trigram_indexes_exist_only_on_postgresql():
    names = index_names()
    if connection.vendor == "postgresql":
        assert TRIGRAM_INDEXES <= names
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            assert cursor.fetchone()
    else:
        assert not TRIGRAM_INDEXES & names


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
    queries = helpers.queries_of(lambda: list(selectors.customer_search(user=owner, query=c.public_id)), "UNION")
    plan = helpers.plan(queries[0])
    assert "customers_customer_public_id" in plan and "link_external_id_idx" in plan, plan


def test_an_email_ignoring_case_is_looked_up_through_the_upper_email_index(postgres):
    helpers.customer(email="Twin@Example.com")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    # the lookup of identity resolution (flag_email_conflicts) and support's ticket matching
    plan = Customer.objects.filter(email__iexact="twin@example.com").order_by().explain()
    assert "customer_email_upper_idx" in plan, plan
