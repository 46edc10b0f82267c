from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from monitoring.models import Heartbeat

# When this process began to watch: on a fresh start the scheduler's first evaluation comes before
# the worker's first beat, and that is not yet news.
WATCHING_SINCE = timezone.now()


def heartbeat_record(*, name: str, at: datetime | None = None) -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": at or timezone.now()})


def heartbeat_ages(now: datetime | None = None) -> dict[str, float | None]:
    """Seconds since each background process last showed life (None: never)."""
    now = now or timezone.now()
    seen = dict(Heartbeat.objects.values_list("name", "beat_at"))
    return {
        name: (now - seen[name]).total_seconds() if name in seen else None
        for name in (Heartbeat.WORKER, Heartbeat.SCHEDULER)
    }


def heartbeats_stale(now: datetime | None = None) -> list[str]:
    limit = timedelta(seconds=settings.HEARTBEAT_STALE_SECONDS).total_seconds()
    return sorted(name for name, age in heartbeat_ages(now).items() if age is None or age > limit)


def watched_long_enough(now: datetime) -> bool:
    """Whether a process that has never beaten has had the stale limit's time to do so."""
    return (now - WATCHING_SINCE).total_seconds() > settings.HEARTBEAT_STALE_SECONDS
