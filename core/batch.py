"""A batch scope: work done for many items at once (a worker applying a batch of Stripe events)
reads what does not change between them once, and publishes its wake-ups together.

Outside a scope every call behaves as without it: the read is made, the wake-up published at once.
Inside, each item keeps its own transaction; only what happens after a commit is merged. Apps
above pass their work in as callables, so this module knows none of them.
"""

import threading
import time
from collections.abc import Callable, Hashable
from contextlib import contextmanager
from typing import Any

import structlog

log = structlog.get_logger(__name__)

# A deferred wake-up waits at most this long for the rest of its batch: merged publishes save work,
# but a wake-up is latency for every job it carries.
WAKE_WITHIN_SECONDS = 0.2

_local = threading.local()


class _Batch:
    def __init__(self) -> None:
        self.reads: dict[Hashable, Any] = {}
        self.pending: dict[Hashable, tuple[Callable[[list], object], list]] = {}
        self.since = 0.0

    def flush(self) -> None:
        pending, self.pending = self.pending, {}
        for key, (publish, items) in pending.items():
            try:
                publish(items)
            except Exception:  # noqa: BLE001 - as an on_commit(robust=True) callback: logged, the sweepers repair it
                log.exception("batch.publish_failed", key=str(key[0] if isinstance(key, tuple) else key))


def _current() -> _Batch | None:
    return getattr(_local, "batch", None)


@contextmanager
def batch_scope():
    """Open a scope (or join the one already open); its deferred publishes run when it closes,
    also when the block raises."""
    if _current() is not None:
        yield
        return
    _local.batch = batch = _Batch()
    try:
        yield
    finally:
        _local.batch = None
        batch.flush()


def batch_read(key: Hashable, read: Callable[[], Any]) -> Any:
    """``read()``, made once per scope for ``key`` (every call outside a scope reads)."""
    batch = _current()
    if batch is None:
        return read()
    if key not in batch.reads:
        batch.reads[key] = read()
    return batch.reads[key]


def batch_defer(key: Hashable, items: list, publish: Callable[[list], object]) -> bool:
    """Inside a scope, add ``items`` to the publish merged under ``key`` (run with all of them when
    the scope closes, or sooner once the oldest has waited ``WAKE_WITHIN_SECONDS``) and return
    True; outside one, return False and leave the publish to the caller."""
    batch = _current()
    if batch is None:
        return False
    if not batch.pending:
        batch.since = time.monotonic()
    _, merged = batch.pending.setdefault(key, (publish, []))
    merged.extend(items)
    batch_flush_due()
    return True


def batch_flush_due() -> None:
    """Publish what is deferred once the oldest of it has waited ``WAKE_WITHIN_SECONDS`` (the scope's
    owner calls it between items, so a slow item never holds the others' wake-ups)."""
    batch = _current()
    if batch is not None and batch.pending and time.monotonic() - batch.since >= WAKE_WITHIN_SECONDS:
        batch.flush()
