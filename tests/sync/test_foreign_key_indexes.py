"""Every job and customer write goes into each of the table's indexes. The foreign keys a composite
index already leads with have no index of their own, and those few rows carry (staff who were
assigned, set aside, set an override; a replayed job) are indexed only where set. Each lookup by
one of them, as Django's deletions make it too, still reads an index (PostgreSQL's plans, with
sequential scans off)."""

import pytest

from customers.models import Customer
from sync.models import SyncJob
from tests import helpers
from tests.sync.helpers import customer_with_stripe, make_job

pytestmark = pytest.mark.django_db


def _plan(queryset) -> str:
    table = f'FROM "{queryset.model._meta.db_table}"'
    return helpers.plan(helpers.queries_of(lambda: list(queryset), table)[0])


def _lookups(owner) -> list[tuple[str, type, str, object]]:
    """(the index that answers, model, foreign key, a value of it)."""
    job = make_job("crm", "upsert_contact")
    return [
        ("job_customer_system_idx", SyncJob, "customer", job.customer),
        ("job_assigned_to_idx", SyncJob, "assigned_to", owner),
        ("job_set_aside_by_idx", SyncJob, "set_aside_by", owner),
        ("job_replay_of_idx", SyncJob, "replay_of", job),
        ("customer_live_created_idx", Customer, "merged_into", customer_with_stripe()),
        ("customer_assigned_to_idx", Customer, "assigned_to", owner),
        ("customer_override_set_by_idx", Customer, "override_set_by", owner),
    ]


@pytest.mark.parametrize("lookup", ["", "__in"])  # one value, and the list a deletion collects
def test_each_foreign_key_is_read_through_an_index(postgres, owner, lookup):
    for index, model, field, value in _lookups(owner):
        plan = _plan(model.objects.filter(**{field + lookup: [value] if lookup else value}).order_by())
        assert index in plan and "Seq Scan" not in plan, (field, plan)


def test_the_rows_without_the_foreign_key_are_not_in_its_partial_index(postgres, owner):
    from django.db import connection

    make_job("crm", "upsert_contact")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'job_assigned_to_idx'")
        assert cursor.fetchone()[0].endswith("WHERE (assigned_to_id IS NOT NULL)")
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename IN ('sync_syncjob', 'customers_customer')")
        names = {row[0] for row in cursor.fetchall()}
    # the plain foreign-key indexes Django would make are gone
    assert not {n for n in names if n.startswith(("sync_syncjob_customer_id", "sync_syncjob_assigned_to_id",
                                                   "customers_customer_merged_into_id"))}, names
