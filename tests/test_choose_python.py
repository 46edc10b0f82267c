"""`make` builds the virtualenv from the fastest Python 3.11 it finds (config/choose_python.py): the
first one on PATH unless another is clearly faster; only 3.11 that can make a virtualenv counts."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.choose_python import FASTER_BY, candidates, choose, measure

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "config" / "choose_python.py"


def _report(executable: str, ms: float, version=(3, 11), venv: bool = True) -> dict:
    return {"executable": executable, "version": list(version), "venv": venv, "ms": ms}


def test_the_first_one_found_is_kept_unless_another_is_clearly_faster():
    first = ("first", _report("/opt/a/python3.11", 100.0))
    assert choose([first, ("near", _report("/opt/b/python3.11", 100.0 * FASTER_BY + 1))]) == ("first", "")
    program, why = choose([first, ("fast", _report("/opt/c/python3.11", 60.0))])
    assert program == "fast"
    assert "60 ms" in why and "/opt/a/python3.11 took 100 ms" in why and "PYTHON=" in why


def test_only_python_3_11_that_can_make_a_virtualenv_counts():
    reports = [("old", _report("/old", 10.0, version=(3, 10))), ("bare", _report("/bare", 10.0, venv=False)),
               ("ok", _report("/ok", 100.0))]
    assert choose(reports) == ("ok", "")
    assert choose([("new", _report("/new", 10.0, version=(3, 12)))]) is None
    assert choose([]) is None


def test_one_interpreter_reached_twice_counts_once():
    # A pyenv shim and the interpreter it runs report the same executable: the first name is kept.
    twice = [("shim", _report("/x/python3.11", 100.0)), ("x", _report("/x/python3.11", 50.0))]
    assert choose(twice) == ("shim", "")


def _link(folder: Path, name: str, target: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).symlink_to(target)
    return folder / name


def test_candidates_follow_path_and_count_each_file_once(tmp_path):
    first = _link(tmp_path / "one", "python3.11", sys.executable)
    _link(tmp_path / "two", "python3", sys.executable)  # the same file under another name
    other = _link(tmp_path / "three", "python3.11", os.path.realpath(sys.executable) + "-missing")
    found = candidates(os.pathsep.join(str(tmp_path / d) for d in ("one", "two", "three")))
    assert found[0] == str(first)
    assert str(tmp_path / "two" / "python3") not in found
    assert str(other) not in found  # a dangling link is not a program


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    return path / "bin" / "python"


@pytest.fixture(scope="module")
def interpreters(tmp_path_factory):
    """Two distinct Python 3.11 programs: ``fast``, and ``slow``, whose clock runs ten times as fast
    (a module its own site-packages loads at start-up, so nothing it starts inherits it): every timing
    it makes says the same work took ten times as long, as a much slower build's would."""
    base = tmp_path_factory.mktemp("pythons")
    fast_python, slow_python = _venv(base / "fast-venv"), _venv(base / "slow-venv")
    site = next((base / "slow-venv" / "lib").glob("python3.11/site-packages"))
    (site / "slow_clock.py").write_text("import time\n\n_clock = time.perf_counter\n"
                                        "time.perf_counter = lambda: _clock() * 10\n")
    (site / "slow_clock.pth").write_text("import slow_clock\n")
    return {"fast": _program(base / "fast", fast_python), "slow": _program(base / "slow", slow_python),
            "fast_python": fast_python, "slow_python": slow_python}


def _program(folder: Path, python: Path) -> Path:
    """``folder/python3.11`` running ``python`` by its own path (a link would leave its virtualenv behind)."""
    folder.mkdir()
    program = folder / "python3.11"
    program.write_text(f'#!/bin/sh\nexec "{python}" "$@"\n')
    program.chmod(0o755)
    return program


def test_each_program_reports_itself_and_one_that_does_not_run_is_left_out(interpreters, tmp_path):
    broken = tmp_path / "python3.11"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    reports = measure([str(interpreters["fast"]), str(broken)], rounds=2)
    assert [program for program, _ in reports] == [str(interpreters["fast"])]
    report = reports[0][1]
    assert report["executable"] == str(interpreters["fast_python"])
    assert report["version"] == [3, 11] and report["venv"] is True and report["ms"] > 0


def _choose(path: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT)], env={**os.environ, "PATH": path},
                          capture_output=True, text=True, timeout=300)


def test_a_slower_build_first_on_path_is_passed_over_with_the_reason(interpreters):
    done = _choose(os.pathsep.join([str(interpreters["slow"].parent), str(interpreters["fast"].parent)]))
    assert done.returncode == 0, done.stderr
    chosen = done.stdout.strip()
    assert chosen != str(interpreters["slow"])
    # The one passed over is the slow one (its clock says ten times as long), and the reason says so.
    reason = re.search(rf"Using {re.escape(chosen)}: it ran the same Python work in (\d+) ms where "
                       rf"{re.escape(str(interpreters['slow_python']))} took (\d+) ms", done.stderr)
    assert reason, done.stderr
    assert int(reason[2]) >= 4 * int(reason[1])
    version = subprocess.run([chosen, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True,
                             text=True, timeout=60)
    assert version.stdout.strip() == "(3, 11)"


def _make_venv(tmp_path: Path, path: str, *args: str) -> subprocess.CompletedProcess:
    """`make .venv/bin/python` in a copy of the project's Makefile and chooser."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "choose_python.py").write_text(SCRIPT.read_text())
    (tmp_path / "Makefile").write_text((ROOT / "Makefile").read_text())
    env = {**os.environ, "PATH": path}
    env.pop("MAKEFLAGS", None)
    return subprocess.run(["make", ".venv/bin/python", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)


def _slow_first(interpreters: dict) -> str:
    """A PATH with the slow interpreter first, then the fast one, then the machine's own."""
    folders = [str(interpreters["slow"].parent), str(interpreters["fast"].parent), os.environ["PATH"]]
    return os.pathsep.join(folders)


def test_make_builds_the_virtualenv_from_the_chosen_python(tmp_path, interpreters):
    done = _make_venv(tmp_path, _slow_first(interpreters))
    assert done.returncode == 0, done.stdout + done.stderr
    made_with = next(line for line in done.stdout.splitlines() if line.startswith("Making .venv with "))
    assert made_with != f"Making .venv with {interpreters['slow']}"
    assert "Using " in done.stderr
    assert (tmp_path / ".venv" / "bin" / "python").exists()


def test_make_uses_the_python_it_is_given(tmp_path, interpreters):
    # With the slow one first on PATH the chooser would speak up (the test above): it is not asked.
    done = _make_venv(tmp_path, _slow_first(interpreters), f"PYTHON={interpreters['fast_python']}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Making .venv with {interpreters['fast_python']}" in done.stdout
    assert "Using " not in done.stderr
