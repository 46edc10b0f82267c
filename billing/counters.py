"""Counters kept in the cache (Redis in production): cheap enough for the webhook door.

Each increment lands in an hourly bucket (kept 8 days, for the health screen) and a
minute bucket (kept 2 hours, for alert windows), per label and in a total.
While the cache is down counting is skipped (reads give 0): nothing here may slow or fail
the door, and Prometheus' own counters (billing/metrics.py) keep counting meanwhile.
"""

from datetime import datetime, timedelta, timezone

from django.core.cache import cache

from core.outages import CACHE, CACHE_ERRORS

HOURLY_RETENTION = timedelta(days=8)
MINUTE_RETENTION = timedelta(hours=2)
TOTAL = "*"


def _hour_key(name: str, label: str, at: datetime) -> str:
    return f"counter:{name}:{label}:h{at:%Y%m%d%H}"


def _minute_key(name: str, label: str, at: datetime) -> str:
    return f"counter:{name}:{label}:m{at:%Y%m%d%H%M}"


def _redis():
    """The Redis client behind the cache (django-redis), or None for the embedded caches."""
    get_client = getattr(getattr(cache, "client", None), "get_client", None)
    return get_client(write=True) if get_client else None


def incr(name: str, label: str = "") -> None:
    now = datetime.now(timezone.utc)
    buckets = [
        (key, int(ttl.total_seconds()))
        for lab in {label or TOTAL, TOTAL}
        for key, ttl in ((_hour_key(name, lab, now), HOURLY_RETENTION), (_minute_key(name, lab, now), MINUTE_RETENTION))
    ]
    if CACHE.down:
        return
    try:
        client = _redis()
        if client is None:
            for key, ttl in buckets:
                if not cache.add(key, 1, timeout=ttl):
                    cache.incr(key)
            return
        # One round trip for all buckets: the webhook door counts every request. django-redis
        # stores integers unpickled, so get_many() reads what INCR wrote.
        pipe = client.pipeline(transaction=False)
        for key, ttl in buckets:
            stored = cache.client.make_key(key)
            pipe.incr(stored)
            pipe.expire(stored, ttl)
        pipe.execute()
    except CACHE_ERRORS as exc:  # a counter must never fail the request it counts
        CACHE.failed(exc)
    except ValueError:  # the embedded cache: the bucket expired between add() and incr()
        pass


def _read(keys: list[str]) -> dict:
    if CACHE.down:
        return {}
    try:
        return cache.get_many(keys)
    except CACHE_ERRORS as exc:
        CACHE.failed(exc)
        return {}


def _sum(keys: list[str]) -> int:
    return sum(v or 0 for v in _read(keys).values())


def total(name: str, label: str = TOTAL, *, hours: int = 24, now: datetime | None = None) -> int:
    now = now or datetime.now(timezone.utc)
    return _sum([_hour_key(name, label, now - timedelta(hours=h)) for h in range(hours)])


def total_minutes(name: str, label: str = TOTAL, *, minutes: int = 15, now: datetime | None = None) -> int:
    now = now or datetime.now(timezone.utc)
    return _sum([_minute_key(name, label, now - timedelta(minutes=m)) for m in range(minutes)])


def hourly(name: str, label: str = TOTAL, *, hours: int = 24, now: datetime | None = None) -> list[int]:
    """Counts per hour, oldest first."""
    now = now or datetime.now(timezone.utc)
    keys = [_hour_key(name, label, now - timedelta(hours=h)) for h in reversed(range(hours))]
    found = _read(keys)
    return [found.get(k) or 0 for k in keys]
