"""``python3 config/choose_python.py``: the Python 3.11 that `make` builds the virtualenv from.

A machine often has more than one: a distribution's (Debian's and Ubuntu's ``python3.11`` are
built with profile-guided and link-time optimisation, as are the official Docker images) and
one built by pyenv, which by default is not optimised. Switchboard is mostly Python (ORM, JSON,
the workers' bookkeeping), and on such a build every process needs about a sixth more CPU for
the same work. So every ``python3.11`` and ``python3`` on ``PATH`` (and the distribution's
usual places) that is 3.11 and can make a virtualenv times a fixed piece of work; the first one
found is kept unless another is clearly faster (``FASTER_BY``). Prints the chosen interpreter's
path; says on stderr when it passed over the first one. ``make PYTHON=...`` skips all this.

Standard library only: it runs before the virtualenv exists.
"""

import json
import os
import shutil
import subprocess
import sys

NAMES = ("python3.11", "python3")
USUAL_PLACES = ("/usr/bin", "/usr/local/bin")
# Another interpreter is chosen over the first one found only when it takes at most this share
# of the first one's time: timing is noisy, and the first one is what the person's PATH says.
FASTER_BY = 0.9
ROUNDS = 3
TIMEOUT = 60

# Run by each candidate: its executable, whether it can make a virtualenv with pip (a pip wheel for
# ensurepip, bundled or in the distribution's wheel folder: Debian's python3.11 without
# python3.11-venv has neither), and the best of five timings (ms) of work shaped like
# Switchboard's (dicts, sorting, JSON, string building).
PROBE = r"""
import glob, json, os, sys, sysconfig, time
try:
    import ensurepip, venv
    places = [os.path.join(os.path.dirname(ensurepip.__file__), "_bundled"),
              sysconfig.get_config_var("WHEEL_PKG_DIR") or ""]
    can_venv = any(glob.glob(os.path.join(place, "pip-*.whl")) for place in places if place)
except ImportError:
    can_venv = False
rows = [{"id": i, "email": f"customer{i}@example.com", "mrr": i * 7 % 1000} for i in range(20000)]
best = float("inf")
for _ in range(5):
    started = time.perf_counter()
    text = json.dumps(sorted(rows, key=lambda r: (r["mrr"], r["email"])))
    parsed = json.loads(text)
    "".join(f"{r['id']}:{r['email']};" for r in parsed)
    best = min(best, time.perf_counter() - started)
print(json.dumps({"executable": sys.executable, "version": list(sys.version_info[:2]),
                  "venv": can_venv, "ms": best * 1000}))
"""


def candidates(path: str) -> list[str]:
    """Every ``NAMES`` on ``path``, then in ``USUAL_PLACES``, in that order, each file once."""
    found, seen = [], set()
    for folder in [*path.split(os.pathsep), *USUAL_PLACES]:
        for name in NAMES:
            program = shutil.which(name, path=folder) if folder else None
            if program and os.path.realpath(program) not in seen:
                seen.add(os.path.realpath(program))
                found.append(program)
    return found


def probe(program: str) -> dict | None:
    """What ``program`` reports of itself (``PROBE``), or None when it does not run."""
    try:
        done = subprocess.run([program, "-c", PROBE], capture_output=True, text=True, timeout=TIMEOUT)
        return json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def choose(reports: list[tuple[str, dict]]) -> tuple[str, str] | None:
    """Of ``(program, report)`` in the order found, the one to use and why ("" when it is simply the
    first usable one); None when none is Python 3.11 with virtualenv support. The same interpreter
    reached twice (a pyenv shim and its target) counts once."""
    usable, seen = [], set()
    for program, report in reports:
        if report["version"] == [3, 11] and report["venv"] and report["executable"] not in seen:
            seen.add(report["executable"])
            usable.append((program, report))
    if not usable:
        return None
    first = usable[0]
    fastest = min(usable, key=lambda item: item[1]["ms"])
    if fastest is first or fastest[1]["ms"] > first[1]["ms"] * FASTER_BY:
        return first[0], ""
    return fastest[0], (f"it ran the same Python work in {fastest[1]['ms']:.0f} ms where "
                        f"{first[1]['executable']} took {first[1]['ms']:.0f} ms; "
                        "set PYTHON=... to choose another")


def measure(programs: list[str], rounds: int = ROUNDS) -> list[tuple[str, dict]]:
    """Each program's report with its fastest time over ``rounds`` turns taken in turn (a moment
    when the machine is busy slows one turn of one program, not all of them); those that do not run
    are left out."""
    best: dict[str, dict] = {}
    for _ in range(rounds):
        for program in programs:
            report = probe(program)
            if report is not None and (program not in best or report["ms"] < best[program]["ms"]):
                best[program] = report
    return [(program, best[program]) for program in programs if program in best]


def main() -> int:
    chosen = choose(measure(candidates(os.environ.get("PATH", ""))))
    if chosen is None:
        print("No Python 3.11 that can make a virtualenv was found: install it (on Debian and Ubuntu, "
              "python3.11 and python3.11-venv) or set PYTHON=... .", file=sys.stderr)
        return 1
    program, why = chosen
    if why:
        print(f"Using {program}: {why}.", file=sys.stderr)
    print(program)
    return 0


if __name__ == "__main__":
    sys.exit(main())
