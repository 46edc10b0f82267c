"""`make test` runs the suite in two processes: each keeps its own data folder and Redis database, since
tests empty the cache and the embedded broker's queue folder they use."""

import os

from django.conf import settings

from config.test_settings import REDIS_URL_GIVEN, _own_redis_database


def test_each_worker_takes_a_redis_database_of_its_own():
    assert _own_redis_database("redis://127.0.0.1:6379/15", 0) == "redis://127.0.0.1:6379/15"
    assert _own_redis_database("redis://127.0.0.1:6379/15", 1) == "redis://127.0.0.1:6379/14"
    assert _own_redis_database("redis://:secret@127.0.0.1:6379/0", 1) == "redis://:secret@127.0.0.1:6379/1"
    assert _own_redis_database("redis://127.0.0.1:6379", 1) == "redis://127.0.0.1:6379/1"


def test_this_worker_uses_its_own_data_folder_and_redis_database():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    number = int(worker.removeprefix("gw") or 0)
    assert settings.REDIS_URL == (_own_redis_database(REDIS_URL_GIVEN, number) if REDIS_URL_GIVEN else "")
    if settings.REDIS_URL:
        assert settings.CACHES["default"]["LOCATION"] == settings.CELERY_BROKER_URL == settings.REDIS_URL
    if worker:
        assert settings.VAR_DIR.name.startswith(f"switchboard-{worker}-")
        assert settings.BROKER_DIR.parent == settings.VAR_DIR
