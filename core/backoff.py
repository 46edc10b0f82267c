"""The one retry delay: exponential with jitter, capped, never sooner than the other side asked."""

import random


def backoff_seconds(*, attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Seconds to wait before try ``attempt + 1``, after ``attempt`` failed tries (1 = the first failed).

    The ceiling doubles per try up to ``cap``; the delay is drawn from its upper half, so
    many failures at once spread out without any of them retrying almost at once. A
    ``retry_after`` (the outside system's Retry-After) is honoured, but never past ``cap``.
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after:
        delay = max(delay, min(retry_after, cap))
    return delay
