"""Where this machine's processes keep their Prometheus samples (prometheus-client multiprocess mode).

gunicorn's workers and Celery's processes each write their counters and histograms to files in
one directory and ``/metrics`` adds them up. prometheus-client reads PROMETHEUS_MULTIPROC_DIR when
it is first imported, so this runs before that: from the settings and from config/gunicorn.py.
No path here imports Django or prometheus-client.
"""

import os
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def metrics_dir_prepare(data_dir: Path) -> Path:
    """Point prometheus-client at ``<data dir>/prometheus`` (unless set) and drop the files of
    processes that are gone: they are left from an earlier run (a clean start) or from a process
    that exited. The files of live processes (a worker started before the web server) stay."""
    path = Path(os.environ.get(ENV) or data_dir / "prometheus")
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    for file in path.glob("*.db"):
        pid = file.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            file.unlink(missing_ok=True)
    return path
