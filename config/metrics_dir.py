"""Where this machine's processes keep their Prometheus samples (prometheus-client multiprocess mode).

gunicorn's workers and Celery's processes each write their counters and histograms to files in
one directory and ``/metrics`` adds them up. prometheus-client reads PROMETHEUS_MULTIPROC_DIR when
it is first imported, so this runs before that: from the settings and from config/gunicorn.py.
Nothing here imports Django, and prometheus-client only inside the functions that need it.
"""

import os
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
SUMMED_KINDS = ("counter", "histogram")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def metrics_dir_prepare(data_dir: Path, *, clean: bool = False) -> Path:
    """Point prometheus-client at ``<data dir>/prometheus`` (unless set).

    ``clean`` (the web server's start): drop the files of processes that are gone, left by an
    earlier run. Files of live processes (a worker started before the web server) stay.
    """
    path = Path(os.environ.get(ENV) or data_dir / "prometheus")
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    if clean:
        for file in path.glob("*.db"):
            pid = file.stem.rsplit("_", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                file.unlink(missing_ok=True)
    return path


def metrics_process_gone(pid: int) -> None:
    """A process exited (a gunicorn worker recycled by max_requests): fold its counts into this
    process's archive files and delete its own, so totals never drop and a scrape reads a number
    of files that does not grow with every recycled worker. One writer only: gunicorn's master."""
    from prometheus_client.mmap_dict import MmapedDict
    from prometheus_client.multiprocess import mark_process_dead

    path = Path(os.environ[ENV])
    mark_process_dead(pid, str(path))
    for kind in SUMMED_KINDS:
        gone = path / f"{kind}_{pid}.db"
        if not gone.exists():
            continue
        # "<kind>_archive_<pid>": read like any file of that kind, dropped with the master at a clean start.
        archive = MmapedDict(str(path / f"{kind}_archive_{os.getpid()}.db"))
        try:
            for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(gone)):
                total, _ = archive.read_value(key)
                archive.write_value(key, total + value, timestamp)
        finally:
            archive.close()
        gone.unlink()
