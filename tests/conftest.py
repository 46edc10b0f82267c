import pytest

from accounts.roles import Role
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery"


def pytest_collection_modifyitems(items):
    """Transactional tests (live servers, threads) empty every table when they end, including
    what migrations wrote (role groups, seeded rules). Serialized rollback restores it."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        transactional = (marker is not None and marker.kwargs.get("transaction")) or any(
            name in item.fixturenames for name in ("live_server", "transactional_db")
        )
        if transactional:
            kwargs = dict(marker.kwargs) if marker is not None else {}
            kwargs.update(transaction=True, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(autouse=True)
def empty_cache():
    """Counters and rate limits live in the cache (the webhook door's in the process): each test starts
    from zero. Content type ids are cached per process too, and a transactional test's flush and
    restore can change them."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from core.ratelimit import LOCAL

    cache.clear()
    LOCAL.clear()
    ContentType.objects.clear_cache()
    yield
    cache.clear()
    LOCAL.clear()
    ContentType.objects.clear_cache()


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@switchboard.test", role=Role.OWNER)


@pytest.fixture
def finance(db):
    return UserFactory(email="finance@switchboard.test", role=Role.FINANCE)


@pytest.fixture
def support(db):
    return UserFactory(email="support@switchboard.test", role=Role.SUPPORT)


@pytest.fixture
def norole(db):
    return UserFactory(email="norole@switchboard.test")


@pytest.fixture
def users(owner, finance, support, norole):
    return {"owner": owner, "finance": finance, "support": support, "norole": norole}


@pytest.fixture
def heartbeats(db):
    """A worker and the scheduler that have just shown life (readiness needs both)."""
    from monitoring.heartbeats import heartbeat_record

    heartbeat_record(name="worker")
    heartbeat_record(name="scheduler")


@pytest.fixture
def cache_down(settings):
    """The cache is django-redis, as in production, pointed at a Redis that is not there."""
    from core.outages import CACHE
    from core.ratelimit import LOCAL

    LOCAL.clear()
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    CACHE.answered()
    yield settings
    CACHE.answered()  # forget the outage: the next test has a cache again


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """POST a signed Stripe event and run what its commit schedules (the worker runs eagerly in tests)."""
    from tests import stripe_events as se

    def _deliver(payload, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return se.post(client, payload, **kwargs)

    return _deliver


def _use_broker(app, url: str) -> None:
    # Celery keeps pooled connections (and producers) to the broker it first used: drop them.
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The broker does not answer; the fixture's value brings it back (its outage forgotten)."""
    from config.celery import app
    from core.outages import BROKER

    original = app.conf.broker_url
    _use_broker(app, "redis://127.0.0.1:1/0")  # nothing listens on port 1

    def back() -> None:
        _use_broker(app, original)
        BROKER.answered()

    yield back
    _use_broker(app, original)


@pytest.fixture
def postgres():
    """For the tests of query plans, which are PostgreSQL's (tests/helpers.py reads them)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
