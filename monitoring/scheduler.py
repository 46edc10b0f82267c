"""Celery beat's scheduler, plus two duties it does itself: its own heartbeat and the alert rules.

Alerts are evaluated here, in the scheduler process, so that a dead worker or a jammed
queue is still reported; the worker's watchdog (``monitoring.watchdog``) does the same
when this process is the one that died.
"""

import time

import structlog
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import close_old_connections

from monitoring.alerts import alerts_evaluate
from monitoring.heartbeats import heartbeat_record
from monitoring.models import Heartbeat

log = structlog.get_logger(__name__)


class WatchfulScheduler(PersistentScheduler):
    _last_watch = 0.0

    def tick(self, *args, **kwargs):
        next_in = super().tick(*args, **kwargs)
        self._watch()
        # Wake for the next watch on time, not a whole interval after a tick that woke for a
        # task: sleeping the interval each time let evaluations drift up to 30 s apart.
        watch_in = self._last_watch + settings.ALERT_EVALUATE_SECONDS - time.monotonic()
        return max(min(next_in, watch_in), 0.01)

    def _watch(self) -> None:
        now = time.monotonic()
        if now - self._last_watch < settings.ALERT_EVALUATE_SECONDS:
            return
        self._last_watch = now
        close_old_connections()
        try:
            heartbeat_record(name=Heartbeat.SCHEDULER)
            alerts_evaluate()
        except Exception as exc:  # noqa: BLE001 - the scheduler must keep scheduling
            log.error("monitoring.watch_failed", error=type(exc).__name__)
