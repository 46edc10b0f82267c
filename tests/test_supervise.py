"""config.supervise: a process that exits is restarted on its own (backing off while it keeps dying),
the others are left alone, and a stop signal ends every process it started, their children included."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.embedded import processes_using, wait_until
from config.supervise import STOP_GRACE, exit_reason, read_procfile

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.process

PROCFILE = """\
# a comment, then three processes
steady: python -c "import time; print('steady is up', flush=True); time.sleep(300)"
flaky: sh -c 'echo "flaky: dying"; exit 3'
orphaner: sh -c 'sleep 300 & exit 0'
"""


def supervise(tmp_path: Path, procfile: str) -> tuple[subprocess.Popen, Path]:
    (tmp_path / "Procfile").write_text(procfile)
    log = tmp_path / "out.log"
    env = {**os.environ, "SUPERVISE_TEST_MARKER": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:"
           f"{os.environ['PATH']}"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "config.supervise", str(tmp_path / "Procfile")], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def test_the_procfile_is_read_without_its_comments():
    children = read_procfile(Path(__file__).parent.parent / "Procfile.local")
    assert [c.name for c in children] == ["web", "worker", "events", "beat"]


def test_exit_reasons_name_the_signal():
    assert exit_reason(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_reason(3) == "exit code 3"


def test_each_process_is_restarted_alone_with_backoff_and_a_stop_leaves_nothing_running(tmp_path):
    proc, log = supervise(tmp_path, PROCFILE)
    try:
        # flaky's own line: the orphaner exits and backs off in step with it, and may get there first.
        wait_until(lambda: re.search(r"flaky exited .*; restarting in 4 s", log.read_text()), "flaky's third quick exit",
                   timeout=60)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = log.read_text()
    # One line per exit, the delay doubling while the process keeps dying at once.
    delays = re.findall(r"flaky exited \(exit code 3\) after \d+ s; restarting in (\d+) s", output)
    assert delays[:3] == ["1", "2", "4"]
    assert re.search(r"^flaky\s+\| flaky: dying$", output, re.MULTILINE)
    # The steady one never restarted: one pid, from start to stop.
    assert len(re.findall(r"steady (?:started|restarted)", output)) == 1
    assert re.search(r"^steady\s+\| steady is up$", output, re.MULTILINE)
    assert "SIGTERM received: stopping steady" in output
    # The orphaner's leftover sleep died with its process group, long before the stop.
    assert processes_using(str(tmp_path)) == []


def test_a_second_interrupt_does_not_wait_for_a_process_that_ignores_the_first(tmp_path):
    stubborn = "stubborn: python -c \"import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); " \
               "print('up', flush=True); time.sleep(300)\"\n"
    proc, log = supervise(tmp_path, stubborn)
    try:
        wait_until(lambda: re.search(r"stubborn +\| up", log.read_text()), "the process to start", timeout=30)
        os.kill(proc.pid, signal.SIGINT)
        wait_until(lambda: "SIGINT received" in log.read_text(), "the supervisor to begin stopping", timeout=10)
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(STOP_GRACE / 2) == 0  # did not sit out the grace period
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert processes_using(str(tmp_path)) == []
