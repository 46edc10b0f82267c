"""The pipeline part reports each worker's resident memory: read from /proc for every process of a group."""

import sys
import time

from bench import infra

HOLDS_60_MB = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; block = bytearray(30 * 2**20); block[::4096] = b'x' * len(block[::4096]); time.sleep(60)"])
block = bytearray(60 * 2**20)
block[::4096] = b"x" * len(block[::4096])  # touched: resident, not only reserved
print("ready", flush=True)
time.sleep(60)
"""


def test_the_watch_sees_each_process_of_a_group_at_its_peak(tmp_path):
    proc = infra.Proc("holder", [sys.executable, "-c", HOLDS_60_MB], {}, tmp_path)
    try:
        infra.wait_for(lambda: "ready" in proc.log.read_text() and len(proc.resident_mb()) == 2, "the holder")
        with infra.MemoryWatch(holder=proc) as watch:
            time.sleep(1.2)
        sizes = sorted(proc.resident_mb())
        assert 30 <= sizes[0] < 60 <= sizes[1] < 120, sizes  # the child's 30 MB and the parent's 60 MB apart
        assert 60 <= watch.peak_mb["holder"] < 120  # the largest one process, not the group's sum
    finally:
        proc.stop()
    assert proc.resident_mb() == []
