"""`manage.py seed_demo` on an embedded install, as `make run` runs it: no worker, no broker."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.process


def _manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_seeding_an_embedded_install_publishes_no_wake_up_and_twice_is_once(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DJANGO_ENV="development", SWITCHBOARD_DATA_DIR=str(tmp_path))
    assert _manage(env, "migrate", "--noinput", "-v0").returncode == 0
    first = _manage(env, "seed_demo")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    # The door and the outbox woke the worker after every commit; seeding ran those wake-ups itself.
    assert [p for p in (tmp_path / "broker").rglob("*") if p.is_file()] == []
    second = _manage(env, "seed_demo")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Demo data ready: 0 Stripe events applied" in second.stdout
    for role in ("owner", "finance", "support"):
        assert f"{role}@demo.switchboard.test" in second.stdout
