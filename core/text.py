"""Sentences for people: counts with the right noun."""


def count_of(n: int, noun: str, plural: str = "") -> str:
    """``count_of(1, "job")`` is "1 job", ``count_of(8, "job")`` "8 jobs" (``plural`` when not just +s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
