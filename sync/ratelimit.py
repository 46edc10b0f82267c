"""A token bucket per provider credential, shared by every worker.

With Redis (production) the bucket is a Redis hash changed by one Lua script,
atomic across machines. Without Redis (embedded mode) it is a database row
changed inside a transaction (SQLite runs writers one at a time; PostgreSQL
locks the row). Both take the time from this process, so tests can move it.
"""

import hashlib
import time
from types import ModuleType

import structlog
from django.conf import settings
from django.db import transaction

from sync.models import RateBucket

log = structlog.get_logger(__name__)

# KEYS[1] bucket; ARGV: capacity, refill per second, cost, now. Returns seconds to wait (0 = granted).
_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = math.min(tonumber(state[2]) or now, now)
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= cost then tokens = tokens - cost else wait = (cost - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 60)
return tostring(wait)
"""


def limit_for(provider_name: str) -> tuple[int, float]:
    return settings.SYNC_RATE_LIMITS.get(provider_name, (10, 1))


def bucket_key(provider: ModuleType) -> str:
    credential = hashlib.sha256(provider.credential().encode()).hexdigest()[:12]
    return f"sync:rate:{provider.NAME}:{credential}"


def seconds_per_call(provider: ModuleType, action: str) -> float:
    capacity, per = limit_for(provider.NAME)
    return provider.cost(action) * per / capacity


def _refill(tokens: float, at: float, now: float, capacity: int, rate: float) -> float:
    # A refill time in the future (another machine's clock runs ahead) counts as now.
    return min(capacity, tokens + max(0.0, now - min(at, now)) * rate)


def _take_db(key: str, capacity: int, rate: float, cost: float, now: float) -> float:
    with transaction.atomic():
        bucket, _ = RateBucket.objects.select_for_update().get_or_create(
            key=key, defaults={"tokens": capacity, "refilled_at": now}
        )
        tokens = _refill(bucket.tokens, bucket.refilled_at, now, capacity, rate)
        wait = 0.0 if tokens >= cost else (cost - tokens) / rate
        RateBucket.objects.filter(pk=bucket.pk).update(tokens=tokens - cost if not wait else tokens, refilled_at=now)
    return wait


def _take_redis(key: str, capacity: int, rate: float, cost: float, now: float) -> float:
    from django_redis import get_redis_connection

    return float(get_redis_connection("default").eval(_LUA, 1, key, capacity, rate, cost, now))


def rate_take(*, provider: ModuleType, action: str) -> float:
    """Take the tokens one job needs; return 0 when granted, else the seconds to wait first."""
    capacity, per = limit_for(provider.NAME)
    rate = capacity / per
    cost = min(provider.cost(action), capacity)
    key, now = bucket_key(provider), time.time()
    if not settings.REDIS_URL:
        return _take_db(key, capacity, rate, cost, now)
    try:
        return _take_redis(key, capacity, rate, cost, now)
    except Exception as exc:  # noqa: BLE001 - Redis down: fall back to the database bucket
        log.warning("sync.rate_limiter_fallback", error_class=type(exc).__name__)
        return _take_db(key, capacity, rate, cost, now)
