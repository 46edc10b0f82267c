"""The pipeline part reports where the CPU goes per event: each process with its descendants (prefork
children, database backends, also those that ended meanwhile), the machine, and the rest."""

import os
import sys
from pathlib import Path

import pytest

from bench import infra
from bench.pipeline import cpu_figures, cpu_per_event

# Waits for its go file, then burns 0.4 s of CPU in a child it waits for (so the child's time is
# only in its parent's "children" ticks once it ends) and 0.2 s itself; then idles.
BURNER = """
import os, subprocess, sys, time
while not os.path.exists(sys.argv[1]):
    time.sleep(0.01)
spin = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < {}: pass"
subprocess.run([sys.executable, "-c", spin.format(0.4)], check=True)
exec(spin.format(0.2))
print("done", flush=True)
time.sleep(60)
"""


def test_a_process_and_the_children_it_reaped_are_counted_and_an_idle_one_is_not(tmp_path):
    go = tmp_path / "go"
    burner = infra.Proc("burner", [sys.executable, "-c", BURNER, str(go)], {}, tmp_path)
    idle = infra.Proc("idle", [sys.executable, "-c", "import time; time.sleep(60)"], {}, tmp_path)
    try:
        meter = infra.CpuMeter(burner=burner.popen.pid, idle=idle.popen.pid, absent=None).start()
        go.touch()
        infra.wait_for(lambda: "done" in burner.log.read_text(), "the burner")
        used = meter.stop()
    finally:
        burner.stop()
        idle.stop()
    assert 0.58 <= used["burner"] < 1.2, used  # 0.6 s spun, with two interpreters starting
    assert used["idle"] < 0.05, used
    assert "absent" not in used
    assert used["machine"] >= used["burner"] + used["idle"] - 0.05, used  # the cores saw at least that
    assert used["rest"] == pytest.approx(max(0.0, used["machine"] - used["burner"] - used["idle"]))


def test_the_database_server_is_found_and_its_backends_work_is_counted():
    if not infra.postgres_available() or infra.postgres_root() is None:
        pytest.skip("no local PostgreSQL server to read here")
    import psycopg

    meter = infra.CpuMeter(postgres=infra.postgres_root()).start()
    with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **infra.PG) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        conn.execute("SELECT sum(x::bigint * x) FROM generate_series(1, 3000000) AS x").fetchone()
    # The backend exits once its client has gone and the server reaps it a moment later; from then
    # on its time is only in the server's count of its reaped children.
    infra.wait_for(lambda: not Path(f"/proc/{backend}").exists(), "the backend to end", timeout=10)
    assert meter.stop()["postgres"] >= 0.1


def test_per_event_figures_and_how_they_read():
    used = {"events": 1.0, "jobs": 0.5, "postgres": 0.25, "rest": 0.25, "machine": 2.0, "seconds": 1.0}
    cpu = cpu_per_event(used, processed=100)
    assert cpu["per_event"] == {"events": 10.0, "jobs": 5.0, "postgres": 2.5, "rest": 2.5}
    assert cpu["busy"] == pytest.approx(2.0 / (os.cpu_count() or 1))
    shown = cpu_figures({"per_event": cpu["per_event"], "busy": 1.0})
    assert shown == ("20.0 ms (events worker 10.0, jobs worker 5.00, PostgreSQL 2.50, the rest 2.50); "
                     "cores 100% busy")
    assert cpu_figures(cpu_per_event(used, processed=0)) == "no event processed"


def test_the_cpu_probe_times_its_work():
    # Ten times the records take several times as long: the probe times the work, not a constant.
    small, large = infra.cpu_probe_ms(rows=2_000), infra.cpu_probe_ms(rows=20_000)
    assert 0 < small * 4 < large, (small, large)
