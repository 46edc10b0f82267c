"""Per-address rate limits that keep working while the cache (Redis) is down.

django-ratelimit counts in the shared cache, so a limit holds across every web process. When
the cache does not answer it raises, and the endpoint would answer 500. Instead each process
then counts on its own: the limit becomes per process (at most WEB_CONCURRENCY times looser),
which still stops one address from flooding an endpoint and never refuses honest traffic.
Each caller says why failing open this way is right for it.
"""

import re
import threading
import time

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from core.client_ip import client_ip
from core.outages import CACHE, CACHE_ERRORS

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/h"`` -> (10, 3600); ``"5/10s"`` -> (5, 10): django-ratelimit's spelling."""
    match = _RATE.match(rate.strip())
    if not match:
        raise ValueError(f"not a rate: {rate!r} (expected e.g. 10/h or 600/m)")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNITS[unit]


class LocalWindow:
    """Fixed-window counts in this process, keyed like django-ratelimit's (group and address)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, group: str, key: str, rate: str, now: float | None = None) -> bool:
        limit, period = parse_rate(rate)
        window = int((now if now is not None else time.time()) // period)
        with self._lock:
            # Windows that have ended are dropped, so the dict holds at most one window's addresses.
            for stale in [k for k in self._counts if k[0] == group and k[2] != window]:
                del self._counts[stale]
            count = self._counts.get((group, key, window), 0) + 1
            self._counts[(group, key, window)] = count
        return count > limit

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


LOCAL = LocalWindow()


def rate_limited(request: HttpRequest, *, group: str, rate: str, value: str | None = None) -> bool:
    """Count this request against ``rate`` per client address (or per ``value``, e.g. an API key's
    prefix); True when over the limit."""
    if not CACHE.down:
        try:
            key = "ip" if value is None else (lambda _group, _request: value)
            limited = is_ratelimited(request, group=group, key=key, rate=rate, increment=True)
        except CACHE_ERRORS as exc:
            CACHE.failed(exc)
        else:
            CACHE.answered()
            return limited
    return LOCAL.hit(group, client_ip(request) if value is None else value, rate)
