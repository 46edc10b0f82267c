"""The web server's settings file: workers are forked from an imported app unless told otherwise."""

import gc
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

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


def test_a_worker_that_exits_leaves_its_counts_and_no_file_of_its_own(tmp_path, monkeypatch):
    def total() -> float:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(tmp_path))
        families = text_string_to_metric_families(generate_latest(registry).decode())
        return sum(s.value for f in families for s in f.samples if s.name == "switchboard_webhook_requests_total")

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = runpy.run_path(str(CONFIG))
    code = "from billing.metrics import webhook_requests\nwebhook_requests.labels('stored').inc(3)"
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    workers = [subprocess.Popen([sys.executable, "-c", code], env=env, cwd=CONFIG.parent.parent) for _ in range(2)]
    assert [worker.wait(60) for worker in workers] == [0, 0]
    assert total() == 6
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")

    class LiveGaugesOnly:
        pid = 4242

    for worker in [*workers, LiveGaugesOnly()]:
        settings["child_exit"](None, worker)
    assert total() == 6  # counters never drop when a worker is recycled
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"counter_archive_{os.getpid()}.db", f"histogram_archive_{os.getpid()}.db"]


def test_a_worker_is_forked_with_the_masters_objects_out_of_the_collectors_reach():
    settings = runpy.run_path(str(CONFIG))
    held = [object()]  # a container the collector tracks, as it does the app's modules and classes
    assert gc.get_freeze_count() == 0
    try:
        settings["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
        assert not any(o is held for o in gc.get_objects())  # frozen: no generation holds it
    finally:
        gc.unfreeze()
    assert any(o is held for o in gc.get_objects())
