"""gunicorn settings; every value can be overridden from the environment."""

import gc
import importlib.util
import multiprocessing
import os
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
# One process per core, and threads to cover the waits on the database: the webhook door is mostly
# its commit's wait. On 2 busy cores (bench door part, 2026-12-02) 2 x 8 gave the door 0.64-0.80 x a
# bare view's requests/s and kept the 200/s pace; 5 x 2 gave 0.33-0.68 x and fell behind it.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# Django is imported once in the master and workers are forked from it: a worker recycled by
# max_requests starts in milliseconds instead of spending a second of CPU importing everything
# again (on a 2-core machine that second stalls every request in flight). Nothing opens a
# database, Redis or broker connection at import time, so no socket is shared across the fork.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() not in ("0", "false", "no")
accesslog = "-"
# No client IPs or query strings (search terms can be emails) in the access log.
access_log_format = '"%(m)s %(U)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def _load(name: str):
    # Loaded by path: importing the config package would start the Celery app in the master.
    path = Path(__file__).resolve().parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"switchboard_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Before the app (and prometheus-client) is imported: workers inherit the directory, cleaned of
# what earlier runs left.
_METRICS_DIR = _load("metrics_dir")
_METRICS_DIR.metrics_dir_prepare(
    Path(os.environ.get("SWITCHBOARD_DATA_DIR") or Path(__file__).resolve().parent.parent / "var"), clean=True
)


# A body too large to read ends its connection (413), and invalid requests are logged without
# the client's address.
pre_request = _load("gunicorn_hooks").pre_request
logger_class = "config.gunicorn_hooks.ClientFreeLogger"


def pre_fork(server, worker) -> None:
    """Everything the master holds (the preloaded app: Django, every module, the URL and template
    machinery; about 140,000 objects) is moved out of the collector's reach before a worker is forked
    from it. A worker's full collections then walk only what it made itself: on the home queue at
    100k customers, a full collection over the app took about 40 ms, inside whichever request set it
    off (p99 85-99 ms against 78 ms frozen, one gunicorn worker, 2026-12-05). The frozen objects are
    never freed, as a preloaded app's never are; and no collection writes to them any more, so fewer
    of their pages are copied into each worker."""
    gc.freeze()


def child_exit(server, worker) -> None:
    """A worker exited (recycled by max_requests, or crashed): keep its counts, drop its files."""
    _METRICS_DIR.metrics_process_gone(worker.pid)
