"""The seeded demo, kept after the first seeding of a test session and put back for each later browser test.

Seeding runs the product (signed events through the door, every job through the executor), which costs
seconds; putting its rows back costs milliseconds. Every table Django knows is copied whole (PostgreSQL
COPY, SQLite rows), inside one transaction: Django's foreign keys are deferred on both databases, so the
order of tables does not matter. The sandbox tools' own file is part of the demo and is kept too.
"""

from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, object]  # table -> COPY bytes (PostgreSQL) or (columns, rows) (SQLite)
    sandbox: bytes | None


def _tables() -> list[str]:
    return sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))


def take() -> Snapshot:
    tables: dict[str, object] = {}
    with connection.cursor() as cursor:
        for table in _tables():
            quoted = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quoted} TO STDOUT") as copy:
                    tables[table] = b"".join(bytes(block) for block in copy)
            else:
                cursor.execute(f"SELECT * FROM {quoted}")
                tables[table] = ([c[0] for c in cursor.description], cursor.fetchall())
    sandbox = Path(settings.SANDBOX_STATE_PATH)
    return Snapshot(tables, sandbox.read_bytes() if sandbox.exists() else None)


def restore(snapshot: Snapshot) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        names = [connection.ops.quote_name(t) for t in snapshot.tables]
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(names)}")
        else:
            for name in names:
                cursor.execute(f"DELETE FROM {name}")
        for table, data in snapshot.tables.items():
            quoted = connection.ops.quote_name(table)
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {quoted} FROM STDIN") as copy:
                    copy.write(data)
            elif data[1]:
                columns, rows = data
                marks = ", ".join(["%s"] * len(columns))
                cols = ", ".join(connection.ops.quote_name(c) for c in columns)
                cursor.executemany(f"INSERT INTO {quoted} ({cols}) VALUES ({marks})", rows)
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
            cursor.execute(sql)
    sandbox = Path(settings.SANDBOX_STATE_PATH)
    sandbox.unlink(missing_ok=True)
    if snapshot.sandbox is not None:
        sandbox.parent.mkdir(parents=True, exist_ok=True)
        sandbox.write_bytes(snapshot.sandbox)
