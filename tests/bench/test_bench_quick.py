"""`python -m bench --quick`: every part of the benchmark runs end to end and reports numbers."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import infra
from bench.__main__ import PARTS, TITLES

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.process


def _skip(reason: str) -> None:
    print(f"skipping: {reason}")
    pytest.skip(reason)


def test_quick_bench_reports_every_part_with_numbers(tmp_path):
    if not shutil.which("wrk"):
        _skip("wrk is not installed (make bench installs it)")
    if not infra.postgres_available():
        _skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    report = tmp_path / "report.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(report)], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    text = report.read_text()
    for title in (TITLES[part] for part in PARTS):  # the default run's parts
        section = text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
        assert "Did not complete" not in section
        values = [line.split("|")[3] for line in section.splitlines() if line.startswith("| ") and "---" not in line]
        assert values[1:] and all(re.search(r"\d", v) for v in values[1:]), section
