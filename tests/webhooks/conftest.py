import shutil

import pytest
from django.db import connection

from tests.sync.servers import RedisServer


def pytest_runtest_setup(item):
    if item.get_closest_marker("redis") and not shutil.which("redis-server"):
        pytest.skip("needs a redis-server binary (none on PATH)")
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...): the worker must share the test database")


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
