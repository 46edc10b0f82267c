"""Settings for the test suite: the normal settings with DJANGO_ENV=test."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DJANGO_ENV", "test")
# Each test process counts in its own directory: /metrics in a test sees only what that test did
# (and what the processes it starts with the same directory did).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="switchboard-metrics-")
atexit.register(shutil.rmtree, os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

from config.settings import *  # noqa: E402,F403

# What the sandbox tools hold: per test process, removed at exit (tests that read it back set their own).
SANDBOX_STATE_PATH = os.path.join(tempfile.mkdtemp(prefix="switchboard-sandbox-"), "tools.sqlite3")
atexit.register(shutil.rmtree, os.path.dirname(SANDBOX_STATE_PATH), ignore_errors=True)
