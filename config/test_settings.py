"""Settings for the test suite: the normal settings with DJANGO_ENV=test."""

import atexit
import os
import shutil
import tempfile
from urllib.parse import urlsplit, urlunsplit

os.environ.setdefault("DJANGO_ENV", "test")


def _own_redis_database(url: str, worker: int) -> str:
    """The Redis database a test worker uses: the configured one for the first worker, the ones
    below it (or above, from 0) for the others, since every test empties the cache it uses."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    db = base - worker if base - worker >= 0 else base + worker
    return urlunsplit(parts._replace(path=f"/{db}"))


# `make test` runs the suite in two processes (pytest-xdist); pytest-django gives each its own test
# database. The rest each needs of its own: a data folder (the embedded broker's queue files, the
# cache files) and, with REDIS_URL, a Redis database. Set once per worker: the processes a test starts
# inherit the worker's environment and share what it uses.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _WORKER and os.environ.get("SWITCHBOARD_TEST_WORKER") != _WORKER:
    os.environ["SWITCHBOARD_TEST_WORKER"] = _WORKER
    os.environ["SWITCHBOARD_TEST_REDIS_URL_GIVEN"] = os.environ.get("REDIS_URL", "")
    os.environ["SWITCHBOARD_DATA_DIR"] = tempfile.mkdtemp(prefix=f"switchboard-{_WORKER}-")
    atexit.register(shutil.rmtree, os.environ["SWITCHBOARD_DATA_DIR"], ignore_errors=True)
    if os.environ.get("REDIS_URL"):
        os.environ["REDIS_URL"] = _own_redis_database(os.environ["REDIS_URL"], int(_WORKER.removeprefix("gw")))
REDIS_URL_GIVEN = os.environ.get("SWITCHBOARD_TEST_REDIS_URL_GIVEN", os.environ.get("REDIS_URL", ""))
# Each test process counts in its own directory: /metrics in a test sees only what that test did
# (and what the processes it starts with the same directory did).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="switchboard-metrics-")
atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

from config.settings import *  # noqa: E402,F403

# What the sandbox tools hold: per test process, removed at exit (tests that read it back set their own).
SANDBOX_STATE_PATH = os.path.join(tempfile.mkdtemp(prefix="switchboard-sandbox-"), "tools.sqlite3")
atexit.register(shutil.rmtree, os.path.dirname(SANDBOX_STATE_PATH), ignore_errors=True)
