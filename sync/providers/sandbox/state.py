"""What the sandbox tools hold: one small SQLite file of its own (not Switchboard's database), so
a job that ran in sandbox leaves a record a later read finds, across the worker and the commands,
and a new install can see drift with nothing connected."""

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from django.conf import settings

_SCHEMA = "CREATE TABLE IF NOT EXISTS record (system TEXT, public_id TEXT, data TEXT, PRIMARY KEY (system, public_id))"


@contextmanager
def _db() -> Iterator[sqlite3.Connection]:
    path = Path(settings.SANDBOX_STATE_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=10, isolation_level="IMMEDIATE")) as conn:
        conn.execute(_SCHEMA)
        with conn:  # one transaction: commit, or roll back on error
            yield conn


def get(system: str, public_id: str) -> dict | None:
    with _db() as conn:
        row = conn.execute("SELECT data FROM record WHERE system=? AND public_id=?", (system, public_id)).fetchone()
    return json.loads(row[0]) if row else None


def put(system: str, public_id: str, data: dict) -> None:
    with _db() as conn:
        conn.execute("INSERT OR REPLACE INTO record VALUES (?, ?, ?)", (system, public_id, json.dumps(data)))


def change(system: str, public_id: str, edit) -> dict:
    """Apply ``edit(record) -> record`` to the record (a new one starts empty) in one transaction."""
    with _db() as conn:
        row = conn.execute("SELECT data FROM record WHERE system=? AND public_id=?", (system, public_id)).fetchone()
        data = edit(json.loads(row[0]) if row else {})
        conn.execute("INSERT OR REPLACE INTO record VALUES (?, ?, ?)", (system, public_id, json.dumps(data)))
    return data


def delete(system: str, public_id: str) -> None:
    with _db() as conn:
        conn.execute("DELETE FROM record WHERE system=? AND public_id=?", (system, public_id))


def listed(system: str) -> list[tuple[str, dict]]:
    with _db() as conn:
        rows = conn.execute("SELECT public_id, data FROM record WHERE system=? ORDER BY public_id", (system,)).fetchall()
    return [(public_id, json.loads(data)) for public_id, data in rows]
