import shutil

import pytest
from django.db import connection

from tests.sync import fakes
from tests.sync.servers import RedisServer

PROVIDER_SETTINGS = {
    "hubspot": {"HUBSPOT_ACCESS_TOKEN": "test-token", "HUBSPOT_BASE_URL": "{url}"},
    "zendesk": {"ZENDESK_EMAIL": "agent@example.com", "ZENDESK_API_TOKEN": "test-token", "ZENDESK_BASE_URL": "{url}"},
    "intercom": {"INTERCOM_ACCESS_TOKEN": "test-token", "INTERCOM_BASE_URL": "{url}", "INTERCOM_TICKET_TYPE_ID": "88"},
    "circle": {"CIRCLE_API_TOKEN": "test-token", "CIRCLE_BASE_URL": "{url}"},
    "kit": {"KIT_API_KEY": "test-token", "KIT_BASE_URL": "{url}"},
}


def pytest_runtest_setup(item):
    if item.get_closest_marker("redis") and not shutil.which("redis-server"):
        print("skipping: no redis-server binary on PATH")
        pytest.skip("needs a redis-server binary (none on PATH)")
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        print("skipping: the test database is not PostgreSQL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...): other processes must share the test database")


@pytest.fixture(autouse=True)
def empty_rate_buckets(settings):
    """Token buckets live in Redis across tests; each test starts with full ones."""
    if settings.REDIS_URL:
        from django_redis import get_redis_connection

        redis = get_redis_connection("default")
        for key in redis.scan_iter("sync:rate:*"):
            redis.delete(key)


@pytest.fixture
def sync_settings(settings):
    """Fast, deterministic executor settings for tests (no real waiting)."""
    settings.SYNC_HTTP_CONNECT_TIMEOUT = 1
    settings.SYNC_HTTP_READ_TIMEOUT = 0.3
    settings.SYNC_RETRY_BASE_SECONDS = 2
    settings.SYNC_RETRY_MAX_SECONDS = 60
    return settings


def _serve(settings, fake: fakes.Fake) -> fakes.Fake:
    fake.start()
    for key, value in PROVIDER_SETTINGS[fake.name].items():
        setattr(settings, key, value.format(url=fake.url))
    return fake


@pytest.fixture
def serve(sync_settings):
    """Start fakes and point the provider settings at them: ``serve(fakes.HubSpot(fault_rate=.3))``."""
    started = []

    def start(fake):
        started.append(_serve(sync_settings, fake))
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def redis_server(tmp_path):
    """A private redis-server (``.stop()`` / ``.start()`` it to simulate an outage)."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
