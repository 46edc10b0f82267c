"""The worker side of monitoring: its watchdog thread starts with the worker, not from beat."""

from celery.signals import worker_ready, worker_shutdown

from monitoring.watchdog import watchdog_start, watchdog_stop


@worker_ready.connect
def _start_watchdog(**kwargs) -> None:
    watchdog_start()


@worker_shutdown.connect
def _stop_watchdog(**kwargs) -> None:
    watchdog_stop()
