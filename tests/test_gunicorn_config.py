"""The web server's settings file: workers are forked from an imported app unless told otherwise."""

import os
import runpy
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parent.parent / "config" / "gunicorn.py"


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("true", True), ("false", False), ("0", False)])
def test_preload_follows_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("GUNICORN_PRELOAD", raising=False)
    else:
        monkeypatch.setenv("GUNICORN_PRELOAD", value)
    settings = runpy.run_path(str(CONFIG))
    assert settings["preload_app"] is expected
    assert settings["max_requests"] > 0  # recycled workers are what preloading makes cheap


def test_it_points_prometheus_at_the_data_dir_and_forgets_processes_that_are_gone(monkeypatch, tmp_path):
    import subprocess
    import sys

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    metrics = tmp_path / "prometheus"
    metrics.mkdir()
    (metrics / f"counter_{gone.pid}.db").write_bytes(b"left by an earlier run")
    (metrics / f"counter_{os.getpid()}.db").write_bytes(b"a live process (a worker started first)")
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(tmp_path))
    settings = runpy.run_path(str(CONFIG))
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(metrics)
    assert sorted(p.name for p in metrics.iterdir()) == [f"counter_{os.getpid()}.db"]
    assert callable(settings["child_exit"])


def test_a_worker_that_exits_leaves_no_live_gauge_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = runpy.run_path(str(CONFIG))
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "counter_4242.db").write_bytes(b"")

    class Worker:
        pid = 4242

    settings["child_exit"](None, Worker())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db"]  # counts stay: totals never drop
