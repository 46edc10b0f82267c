"""Processes, ports, the bench database and Redis: everything the parts start, and how it is stopped.

Every process is started in its own session (process group) and registered
here, so one ``stop_all()`` in a ``finally`` ends it with its children, also
after Ctrl-C or a failure.
"""

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}

_started: list["Proc"] = []
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


class Proc:
    """One started process group; its output goes to a log file the report can point at."""

    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._out = open(self.log, "ab")
        self.popen = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )
        _started.append(self)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.alive():
            self._signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.popen.wait(10)
        # Children of a process that exited by itself may still hold the group.
        self._signal(signal.SIGKILL)
        self._out.close()
        if self in _started:
            _started.remove(self)

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def resident_mb(self) -> list[float]:
        """The resident memory of each process in this group now, in MB (Linux's /proc)."""
        return [int(fields[21]) * PAGE_BYTES / 2**20 for _, fields in _by_pid().values()
                if int(fields[2]) == self.popen.pid and fields[0] != "Z"]  # a zombie holds nothing

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _by_pid() -> dict[int, tuple[str, list[str]]]:
    """Process id -> (command name, the fields after it) of every process now, from Linux's /proc:
    state, parent, process group, ..., user and system CPU ticks (the 12th and 13th), those of the
    children it has waited for (14th, 15th), ..., resident pages (the 22nd)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # a process that ended while it was read
        name, _, rest = text.partition(" (")[2].rpartition(")")
        found[int(stat.parent.name)] = (name, rest.split())
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU (user and system) used so far by a process and its descendants, with what the children
    they have reaped used: prefork children and database backends that come and go are counted too."""
    procs = {pid: (fields, int(fields[1])) for pid, (_, fields) in _by_pid().items()}
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, (_, parent) in procs.items() if parent in tree} - tree
        tree, grew = tree | below, bool(below)
    return sum(sum(int(v) for v in procs[pid][0][11:15]) for pid in tree if pid in procs) / CLOCK_TICKS


def machine_busy_seconds() -> float:
    """CPU time every core of this machine has spent busy since boot (user, nice, system, interrupts)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / CLOCK_TICKS


def postgres_root() -> int | None:
    """The process id of the local PostgreSQL server (the postmaster, parent of every backend), or
    None where there is not exactly one here to read."""
    procs = _by_pid()
    named = ("postgres", "postmaster")
    servers = [pid for pid, (name, fields) in procs.items()
               if name in named and procs.get(int(fields[1]), ("",))[0] not in named]
    return servers[0] if len(servers) == 1 else None


class CpuMeter:
    """CPU used by named processes (each with its descendants) between ``start()`` and ``stop()``, in
    seconds, with ``machine`` (every core busy, whatever ran) and ``rest`` (the machine less the named
    ones: the load generator, the fakes, Redis, ...). A process given as None is left out."""

    def __init__(self, **roots: int | None) -> None:
        self.roots = {name: pid for name, pid in roots.items() if pid is not None}
        self._start: dict[str, float] = {}
        self._clock = 0.0

    def _read(self) -> dict[str, float]:
        return {**{name: tree_cpu_seconds(pid) for name, pid in self.roots.items()},
                "machine": machine_busy_seconds()}

    def start(self) -> "CpuMeter":
        self._start, self._clock = self._read(), time.monotonic()
        return self

    def stop(self) -> dict[str, float]:
        used = {name: max(0.0, value - self._start[name]) for name, value in self._read().items()}
        used["rest"] = max(0.0, used["machine"] - sum(used[name] for name in self.roots))
        used["seconds"] = time.monotonic() - self._clock
        return used


class MemoryWatch:
    """The largest resident memory any one process of each group reached while it ran, sampled twice
    a second in a thread: ``with MemoryWatch(worker=proc) as watch: ...`` then ``watch.peak_mb``."""

    def __init__(self, **procs: "Proc") -> None:
        self.procs, self.peak_mb = procs, dict.fromkeys(procs, 0.0)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            for name, proc in self.procs.items():
                self.peak_mb[name] = max([self.peak_mb[name], *proc.resident_mb()])
            if self._done.wait(0.5):
                return

    def __enter__(self) -> "MemoryWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


def stop_all() -> None:
    for proc in reversed(list(_started)):
        proc.stop()


interrupted = threading.Event()


def terminate_as_interrupt() -> None:
    """SIGTERM (a CI timeout, ``kill``) unwinds like Ctrl-C, so every ``finally`` runs. The flag
    remembers it: a library may turn the interrupt into its own error (psycopg cancels the query)."""

    def handler(signum: int, frame: object) -> None:
        interrupted.set()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, handler)


# --- PostgreSQL -------------------------------------------------------------------------


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **PG) as conn:
        conn.execute(sql)


def database_create(name: str) -> str:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{name}"')
    return f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{name}"


def database_drop(name: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_probe_ms(*, rows: int = 20_000, repeats: int = 5) -> float:
    """The best of ``repeats`` timings, in ms, of a fixed piece of single-threaded Python work (sort,
    JSON, hash over ``rows`` records): how fast one core runs Python just now. Machines of one kind
    differ, and a shared host's speed moves within a run; the report gives this at the start and at
    the end, so that two runs' figures can be set side by side."""
    records = [{"id": i, "name": f"customer {i}", "mrr": i * 7 % 1000} for i in range(rows)]
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        blob = json.dumps(sorted(records, key=lambda r: (r["mrr"], r["name"])))
        hashlib.sha256(blob.encode()).hexdigest()
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def commit_latency_ms(database: str, commits: int = 100) -> float:
    """What one small committed INSERT costs on this disk (the WAL flush every write path waits for)."""
    import psycopg

    with psycopg.connect(dbname=database, autocommit=True, connect_timeout=5, **PG) as conn:
        conn.execute("CREATE TABLE bench_commit_probe (x int)")
        try:
            started = time.perf_counter()
            for i in range(commits):
                conn.execute("INSERT INTO bench_commit_probe VALUES (%s)", (i,))
            return (time.perf_counter() - started) * 1000 / commits
        finally:
            conn.execute("DROP TABLE bench_commit_probe")


def postgres_available() -> bool:
    try:
        _admin("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable here"
        return False


# --- Redis ----------------------------------------------------------------------------------


class Redis:
    """Either a private redis-server on a free port (quick mode, so a smoke test never touches the
    shared one), or one numbered database of the shared server, flushed before and after."""

    def __init__(self, *, private: bool, shared_db: int, log_dir: Path) -> None:
        self.proc: Proc | None = None
        if private and shutil.which("redis-server"):
            port = free_port()
            self.proc = Proc("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(log_dir)], dict(os.environ), log_dir)
            wait_for(lambda: port_open(port), "redis-server")
            self.url = f"redis://127.0.0.1:{port}/0"
        else:
            self.url = f"redis://127.0.0.1:6379/{shared_db}"
        self.flush()

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url, socket_timeout=5).flushdb()

    def close(self) -> None:
        if self.proc:
            self.proc.stop()
        else:
            self.flush()


def versions() -> dict[str, str]:
    """Machine and versions for the report."""
    import platform

    def run(argv: list[str]) -> str:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (done.stdout or done.stderr).strip()
        except OSError:
            return "absent"

    mem_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        # Which build: a distribution's (optimised) and a default pyenv build differ by about a sixth in CPU.
        "python": f"{platform.python_version()} ({os.path.realpath(sys.executable)})",
        "postgresql": run(["psql", "-h", PG["host"], "-U", PG["user"], "-Atc", "SHOW server_version"]) or "?",
        "wrk": run(["wrk", "--version"]).split()[1] if shutil.which("wrk") else "absent",
    }
