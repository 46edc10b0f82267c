"""A token bucket per provider credential, shared by every worker, that hands out slots.

Taking always succeeds: a call that finds too few tokens takes them anyway (the bucket goes
into debt) and is told how long until its slot, the moment the bucket would have refilled them.
The job is parked until then and runs without asking again; later takers queue behind it. So
a throttled tool's backlog is scheduled once, in order, at the tool's pace, instead of every
waiting job asking again and again for a token that is not there yet.

With Redis (production) the bucket is a Redis hash changed by one Lua script,
atomic across machines. Without Redis (embedded mode) it is a database row
changed inside a transaction (SQLite runs writers one at a time; PostgreSQL
locks the row). Both take the time from this process, so tests can move it.
"""

import hashlib
import time
from datetime import datetime, timedelta
from types import ModuleType

import structlog
from django.conf import settings
from django.db import transaction

from sync.models import RateBucket

log = structlog.get_logger(__name__)

# KEYS[1] bucket; ARGV: capacity, refill per second, now, then one cost per call.
# Returns, per call, the seconds until its slot (0 = now).
_LUA = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = math.min(tonumber(state[2]) or now, now)
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local waits = {}
for i = 4, #ARGV do
  tokens = tokens - tonumber(ARGV[i])
  if tokens >= 0 then waits[#waits + 1] = '0' else waits[#waits + 1] = tostring(-tokens / rate) end
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('EXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 60)
return waits
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


def slot_window(provider: ModuleType) -> float:
    """How long a reserved slot stays good: a slot not used within the tool's own window is void
    (using it later could crowd a later window), and the job asks for a new one."""
    return float(limit_for(provider.NAME)[1])


def holds_slot(slot: datetime | None, provider: ModuleType, now: datetime) -> bool:
    """Has a job reserved a slot that is still good (reached, and within its window)?"""
    return slot is not None and timedelta(0) <= now - slot <= timedelta(seconds=slot_window(provider))


def _waits(tokens: float, costs: list[float], rate: float) -> tuple[float, list[float]]:
    waits = []
    for cost in costs:
        tokens -= cost
        waits.append(0.0 if tokens >= 0 else -tokens / rate)
    return tokens, waits


def _take_db(key: str, capacity: int, rate: float, costs: list[float], now: float) -> list[float]:
    with transaction.atomic():
        bucket, _ = RateBucket.objects.select_for_update().get_or_create(
            key=key, defaults={"tokens": capacity, "refilled_at": now}
        )
        tokens, waits = _waits(_refill(bucket.tokens, bucket.refilled_at, now, capacity, rate), costs, rate)
        RateBucket.objects.filter(pk=bucket.pk).update(tokens=tokens, refilled_at=now)
    return waits


def _take_redis(key: str, capacity: int, rate: float, costs: list[float], now: float) -> list[float]:
    from django_redis import get_redis_connection

    answer = get_redis_connection("default").eval(_LUA, 1, key, capacity, rate, now, *costs)
    return [float(w) for w in answer]


def rate_reserve(*, provider: ModuleType, actions: list[str]) -> list[float]:
    """Take the tokens of one call per action, in order; return for each the seconds until its
    slot (0 = now). The tokens are taken whatever the wait: the caller owns those slots."""
    if not actions:
        return []
    capacity, per = limit_for(provider.NAME)
    rate = capacity / per
    costs = [min(provider.cost(action), capacity) for action in actions]
    key, now = bucket_key(provider), time.time()
    if not settings.REDIS_URL:
        return _take_db(key, capacity, rate, costs, now)
    try:
        return _take_redis(key, capacity, rate, costs, now)
    except Exception as exc:  # noqa: BLE001 - Redis down: fall back to the database bucket
        log.warning("sync.rate_limiter_fallback", error_class=type(exc).__name__)
        return _take_db(key, capacity, rate, costs, now)


def rate_take(*, provider: ModuleType, action: str) -> float:
    """Take the tokens one job needs; return 0 when granted now, else the seconds until its slot."""
    return rate_reserve(provider=provider, actions=[action])[0]
