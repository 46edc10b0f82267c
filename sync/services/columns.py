"""Values written per job in one UPDATE of many jobs."""

from django.db import connection
from django.db.models import Value
from django.db.models.expressions import RawSQL

from sync.models import SyncJob


def per_job(values: dict, name: str) -> RawSQL | Value:
    """One value per job for column ``name`` in a single UPDATE of exactly the jobs of ``values``.
    When they all get the same value (no error text on a batch of successes), it is a plain value.
    Otherwise a simple CASE on the id, written out: the ORM's ``Case(When(pk=...))`` resolves a
    filter per job, about 0.1 ms of CPU each (a batch of 20 jobs: 2.3 ms against 0.15)."""
    field = SyncJob._meta.get_field(name)
    if len(set(values.values())) == 1:
        return Value(next(iter(values.values())), output_field=field)
    table, quote = SyncJob._meta.db_table, connection.ops.quote_name
    params = [part for pk, value in values.items() for part in (pk, field.get_db_prep_save(value, connection))]
    whens = " ".join(["WHEN %s THEN %s"] * len(values))
    return RawSQL(f"CASE {quote(table)}.{quote('id')} {whens} ELSE {quote(table)}.{quote(field.column)} END",
                  params, output_field=field)
