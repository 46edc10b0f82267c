"""A per-process memory that Redis (the cache or the broker) stopped answering.

Without it every request would pay for a connection attempt while Redis is down: nothing when
the port is closed, but a socket timeout (seconds) when the host does not answer at all. After
one failure a process skips that service for ``retry_after`` seconds, then tries again; the
database carries everything the skipped work was for (the sweepers publish what was not).
"""

import threading
import time

import structlog
from django_redis.exceptions import ConnectionInterrupted
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

# What a cache call raises when Redis is away (django-redis wraps most of it; a raw client
# pipeline does not); OSError covers the embedded file cache's disk.
CACHE_ERRORS = (ConnectionInterrupted, RedisError, OSError)
# What a publish raises when the broker is unreachable (kombu wraps most of it).
BROKER_ERRORS = (KombuError, OSError, TimeoutError)

log = structlog.get_logger(__name__)


class Outage:
    def __init__(self, name: str, *, retry_after: float = 5.0) -> None:
        self.name, self.retry_after = name, retry_after
        self._until = 0.0
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return time.monotonic() < self._until

    def failed(self, error: BaseException) -> None:
        with self._lock:
            first = self._until == 0.0
            self._until = time.monotonic() + self.retry_after
        if first:  # one line per outage and process, not one per request
            log.warning("redis.unavailable", service=self.name, error_class=type(error).__name__)

    def answered(self) -> None:
        if self._until:
            with self._lock:
                self._until = 0.0
            log.info("redis.available", service=self.name)


CACHE = Outage("cache")
BROKER = Outage("broker")
