from celery import shared_task


@shared_task(name="monitoring.heartbeat")
def heartbeat() -> None:
    """Scheduled every few seconds: proves a worker is taking tasks off the queue."""
    from monitoring.heartbeats import heartbeat_record
    from monitoring.models import Heartbeat

    heartbeat_record(name=Heartbeat.WORKER)
