"""Percentiles without numpy: nearest rank, which is what wrk and most load tools report."""

import math


def percentile(values: list[float], p: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def percentiles(values: list[float], ps: tuple[float, ...] = (50, 95, 99)) -> tuple[float, ...]:
    return tuple(percentile(values, p) for p in ps)
