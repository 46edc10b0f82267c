"""Django's PostgreSQL compilers, except that a multi-row INSERT of rows with JSON goes as VALUES.

Django sends a multi-row INSERT as one array per column (``UNNEST``), so that PostgreSQL plans it
faster. psycopg writes an array's literal in Python, escaping each element with a regular
expression; a JSON document is full of quotes, so for the inserts the workers make all the time
(an event's jobs, a batch's attempts, links and their audit entries) the escaping cost more than
the array saved. As VALUES each document is one parameter, escaped by libpq in C: about 1.2 ms of
CPU fewer per applied event and its jobs measured in process, 1-2 % of the whole pipeline's CPU
under load. Rows without JSON keep UNNEST (as VALUES, psycopg parses a long statement again on
every call, which made every insert as VALUES slower overall).
"""

from django.db.backends.postgresql import compiler
from django.db.models import JSONField

SQLAggregateCompiler = compiler.SQLAggregateCompiler
SQLCompiler = compiler.SQLCompiler
SQLDeleteCompiler = compiler.SQLDeleteCompiler
SQLUpdateCompiler = compiler.SQLUpdateCompiler

__all__ = ["SQLAggregateCompiler", "SQLCompiler", "SQLDeleteCompiler", "SQLInsertCompiler", "SQLUpdateCompiler"]


class SQLInsertCompiler(compiler.SQLInsertCompiler):
    def assemble_as_sql(self, fields, value_rows):
        if any(isinstance(field, JSONField) for field in fields):
            # Skip PostgreSQL's UNNEST form for the generic one: a VALUES row per object.
            return super(compiler.SQLInsertCompiler, self).assemble_as_sql(fields, value_rows)
        return super().assemble_as_sql(fields, value_rows)
