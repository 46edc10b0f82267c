"""``python -m config.supervise Procfile.local``: run a Procfile's processes and keep them running.

honcho stops every process as soon as one exits, so one crashed worker took the web server
and the scheduler down with it. Here a process that exits is started again on its own, with
one line saying so, after 1 s (doubling to at most 30 s while it keeps dying within a minute
of starting), and the others never notice. Only SIGINT (Ctrl-C), SIGTERM or SIGHUP stops
everything: SIGTERM to each process, SIGKILL to whatever is left of its process group after
a grace period (a second Ctrl-C does not wait), so nothing outlives the supervisor.

Each process runs in its own session: a terminal's Ctrl-C reaches only the supervisor, which
stops the processes in order. Their output is shown line by line behind their name.

With ``--ready-url``, once that URL answers 200 the ``--then`` command runs once (its output
shown as it is) and the ``--banner`` lines are printed last, where they stay visible.

Standard library only, so it starts in a moment and depends on nothing it supervises.
"""

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
# A process that ran at least this long before exiting starts again after FIRST_DELAY.
STABLE_AFTER = 60.0
STOP_GRACE = 20.0
POLL = 0.1
NAME = "supervise"


@dataclass
class Child:
    name: str
    command: str
    popen: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    quick_exits: int = 0
    restart_at: float | None = None


def read_procfile(path: Path) -> list[Child]:
    children = []
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line.strip())
        if match and not line.lstrip().startswith("#"):
            children.append(Child(name=match[1], command=match[2]))
    if not children:
        raise SystemExit(f"{path} names no processes.")
    return children


def exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Output:
    """One lock for every line, so lines of different processes never interleave."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        with self.lock:
            sys.stdout.write(f"{name:<{self.width}} | {text}\n")
            sys.stdout.flush()

    def raw(self, text: str) -> None:
        with self.lock:
            sys.stdout.write(text)
            sys.stdout.flush()

    def pump(self, name: str, stream) -> None:
        for raw in iter(stream.readline, b""):
            self.line(name, raw.decode("utf-8", "replace").rstrip("\n"))
        stream.close()


class Supervisor:
    def __init__(self, children: list[Child], env: dict[str, str]) -> None:
        self.children = children
        self.env = env
        self.out = Output(max(len(NAME), *(len(c.name) for c in children)))
        self.stop_signal: int | None = None
        self.once: subprocess.Popen | None = None  # the --then command, while it runs
        self.hurry = threading.Event()

    def say(self, text: str) -> None:
        self.out.line(NAME, text)

    # --- running ---------------------------------------------------------------------------
    def start(self, child: Child) -> None:
        child.popen = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {child.command}"], env=self.env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        child.started, child.restart_at = time.monotonic(), None
        threading.Thread(target=self.out.pump, args=(child.name, child.popen.stdout), daemon=True).start()
        if child.restarts:
            self.say(f"{child.name} restarted (pid {child.popen.pid}, restart {child.restarts})")
        else:
            self.say(f"{child.name} started (pid {child.popen.pid})")

    def exited(self, child: Child, now: float) -> None:
        code = child.popen.returncode
        _kill_group(child.popen.pid, signal.SIGKILL)  # what the process left behind (pool children)
        ran = now - child.started
        child.quick_exits = 0 if ran >= STABLE_AFTER else child.quick_exits + 1
        delay = min(MAX_DELAY, FIRST_DELAY * 2 ** max(0, child.quick_exits - 1))
        child.popen, child.restart_at = None, now + delay
        child.restarts += 1
        self.say(f"{child.name} exited ({exit_reason(code)}) after {ran:.0f} s; restarting in {delay:.0f} s")

    def run(self, then: Callable[[], None] | None = None) -> int:
        """Start every process, call ``then`` in a thread, and keep them running until a stop signal."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        for child in self.children:
            self.start(child)
        if then is not None:
            threading.Thread(target=then, daemon=True).start()
        while self.stop_signal is None:
            now = time.monotonic()
            for child in self.children:
                if child.popen is not None and child.popen.poll() is not None:
                    self.exited(child, now)
                elif child.popen is None and child.restart_at is not None and now >= child.restart_at:
                    self.start(child)
            time.sleep(POLL)
        self.stop()
        return 0

    def _on_signal(self, signum: int, frame) -> None:
        if self.stop_signal is not None:
            self.hurry.set()  # asked twice: stop waiting for a graceful exit
        self.stop_signal = signum

    # --- stopping --------------------------------------------------------------------------
    def stop(self) -> None:
        running = [c for c in self.children if c.popen is not None and c.popen.poll() is None]
        self.say(f"{signal.Signals(self.stop_signal).name} received: stopping "
                 f"{', '.join(c.name for c in running) or 'nothing'}")
        for child in running:
            _signal(child.popen.pid, signal.SIGTERM)
        if self.once is not None and self.once.poll() is None:
            self.once.terminate()
        deadline = time.monotonic() + STOP_GRACE
        while any(c.popen.poll() is None for c in running) and time.monotonic() < deadline:
            if self.hurry.wait(POLL):
                break
        for child in self.children:
            if child.popen is not None:
                _kill_group(child.popen.pid, signal.SIGKILL)
                child.popen.wait()
        self.say("stopped")


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _kill_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def announce_when_ready(supervisor: Supervisor, url: str, then: str | None, banner: list[str]) -> None:
    """Wait until ``url`` answers 200, then run ``then`` once and print the banner."""
    supervisor.say(f"waiting for {url}")
    while supervisor.stop_signal is None and not _answers(url):
        time.sleep(2)  # gently: each "not ready yet" is a logged 503
    if supervisor.stop_signal is not None:
        return
    if then:
        supervisor.once = subprocess.Popen(shlex.split(then), env=supervisor.env, stdin=subprocess.DEVNULL,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output, _ = supervisor.once.communicate()
        if supervisor.stop_signal is not None:
            return
        supervisor.out.raw(output.decode("utf-8", "replace"))
        if supervisor.once.returncode:
            supervisor.say(f"{then!r} failed ({exit_reason(supervisor.once.returncode)})")
    supervisor.out.raw("".join(f"{line}\n" for line in ["", *banner, ""]))


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m config.supervise", description=__doc__.splitlines()[0])
    parser.add_argument("procfile", type=Path, help="lines of 'name: command' (run by /bin/sh)")
    parser.add_argument("--ready-url", help="URL that answers 200 once everything is up")
    parser.add_argument("--then", help="command to run once, after --ready-url answered")
    parser.add_argument("--banner", action="append", default=[], help="line to print after --then (repeatable)")
    args = parser.parse_args(argv)
    supervisor = Supervisor(read_procfile(args.procfile), {**os.environ, "PYTHONUNBUFFERED": "1"})
    if not args.ready_url:
        return supervisor.run()
    return supervisor.run(then=lambda: announce_when_ready(supervisor, args.ready_url, args.then, args.banner))


if __name__ == "__main__":
    sys.exit(main())
