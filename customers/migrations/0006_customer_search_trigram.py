"""Trigram indexes for the customer search's partial matches (email or name contains the text).

PostgreSQL only: ``icontains`` there is ``UPPER(col::text) LIKE UPPER('%text%')``, which a
GIN index of UPPER(col) with gin_trgm_ops answers without reading every customer. SQLite
(the embedded mode) has no such index and keeps scanning, which is fine at its sizes. The
indexes stay out of the model's state: SQLite rebuilds tables from that state and would then
try to create a GIN index.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {"customer_email_trgm_idx": "email", "customer_name_trgm_idx": "name"}


def create_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("customers", "Customer")._meta.db_table)
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {schema_editor.quote_name(name)} ON {table} "
            f"USING gin (UPPER({schema_editor.quote_name(column)}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_customer_queue_and_identity_idx"),
    ]

    operations = [
        TrigramExtension(),  # CREATE EXTENSION IF NOT EXISTS pg_trgm; nothing on other databases
        migrations.RunPython(create_indexes, drop_indexes),
    ]
