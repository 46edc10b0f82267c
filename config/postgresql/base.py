"""The backend's entry point (``ENGINE = "config.postgresql"``): Django's PostgreSQL backend, compiling
with ``config.postgresql.compiler``."""

from django.db.backends.postgresql import base


class DatabaseOperations(base.DatabaseOperations):
    compiler_module = "config.postgresql.compiler"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
