"""Hourly counters kept in the cache (Redis in production): cheap enough for the webhook door."""

from datetime import datetime, timedelta, timezone

from django.core.cache import cache

RETENTION = timedelta(days=8)


def _key(name: str, label: str, hour: datetime) -> str:
    return f"counter:{name}:{label}:{hour:%Y%m%d%H}"


def incr(name: str, label: str = "") -> None:
    key = _key(name, label, datetime.now(timezone.utc))
    try:
        if cache.add(key, 1, timeout=int(RETENTION.total_seconds())):
            return
        cache.incr(key)
    except Exception:  # noqa: BLE001 - a counter must never fail the request it counts
        pass


def total(name: str, label: str = "", *, hours: int = 24) -> int:
    now = datetime.now(timezone.utc)
    keys = [_key(name, label, now - timedelta(hours=h)) for h in range(hours)]
    try:
        return sum(v or 0 for v in cache.get_many(keys).values())
    except Exception:  # noqa: BLE001
        return 0
