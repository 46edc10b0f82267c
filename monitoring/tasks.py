from celery import shared_task
from celery.signals import worker_ready


@shared_task(name="monitoring.heartbeat")
def heartbeat() -> None:
    """Scheduled every few seconds: proves a worker is taking tasks off the queue."""
    from monitoring.heartbeats import heartbeat_record
    from monitoring.models import Heartbeat

    heartbeat_record(name=Heartbeat.WORKER)


@worker_ready.connect
def _heartbeat_when_ready(**kwargs) -> None:
    # Through the queue, like the scheduled one, so it proves the same thing; a (re)started
    # worker shows life at once instead of at beat's next heartbeat.
    heartbeat.delay()
