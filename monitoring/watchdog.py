"""The worker's watchdog: a small thread in every worker process, outside the scheduler.

Every ALERT_EVALUATE_SECONDS it records the worker's heartbeat. When the scheduler's
heartbeat is stale (celery beat died), it does the scheduler's vital duties itself:
evaluates the alert rules (so "scheduler missing" is reported at all) and runs the
sweepers, so retries and lost wake-ups do not stop with beat. Beat in turn watches the
worker's heartbeat. Started by the ``worker_ready`` signal (``monitoring.tasks``), so it
never depends on a beat-scheduled task.
"""

import threading

import structlog
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

from billing.tasks import sweep_events
from monitoring.alerts import alerts_evaluate
from monitoring.heartbeats import heartbeat_record, heartbeats_stale, watched_long_enough
from monitoring.models import Heartbeat
from sync.services import jobs_sweep

log = structlog.get_logger(__name__)


def watchdog_tick() -> bool:
    """One look: the worker's heartbeat, and the scheduler's duties if it is silent. True when it stood in."""
    heartbeat_record(name=Heartbeat.WORKER)
    # Just started (the whole stack with it, most often): beat is given the stale limit to show itself,
    # as the alert rule gives a process it has never seen, so a fresh start is not a silent scheduler.
    if Heartbeat.SCHEDULER not in heartbeats_stale() or not watched_long_enough(timezone.now()):
        return False
    _stand_in()
    return True


def _stand_in() -> None:
    # Each duty on its own: a broker that is down (sweeps publish) must not stop the alerts.
    for name, duty in (("alerts", alerts_evaluate), ("sync_sweep", jobs_sweep), ("events_sweep", sweep_events)):
        try:
            duty()
        except Exception as exc:  # noqa: BLE001 - the watchdog must outlive any one failure
            log.error("monitoring.watchdog_duty_failed", duty=name, error=type(exc).__name__)


class Watchdog:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.stopping = threading.Event()
        self.standing_in = False
        self.thread = threading.Thread(target=self._run, name="switchboard-watchdog", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5) -> None:
        self.stopping.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self.stopping.is_set():
                self._tick()
                self.stopping.wait(self.interval)
        finally:
            connection.close()  # this thread's own connection

    def _tick(self) -> None:
        close_old_connections()  # as around a task: a broken or old connection is replaced
        try:
            standing_in = watchdog_tick()
        except Exception as exc:  # noqa: BLE001 - e.g. the database is down: try again next time
            log.error("monitoring.watchdog_failed", error=type(exc).__name__)
            return
        if standing_in != self.standing_in:
            log.warning("monitoring.scheduler_silent" if standing_in else "monitoring.scheduler_back")
            self.standing_in = standing_in


_current: Watchdog | None = None


def watchdog_start() -> Watchdog:
    global _current
    if _current is None:
        _current = Watchdog(settings.ALERT_EVALUATE_SECONDS)
        _current.start()
    return _current


def watchdog_stop() -> None:
    global _current
    if _current is not None:
        _current.stop()
        _current = None
