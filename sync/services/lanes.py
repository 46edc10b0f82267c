"""Running a batch's calls in lanes: each owner's items one after another, in their order;
different owners' at the same time, at most ``in_flight`` at once, each lane in a thread of its own.

A result that ``stops`` (a tool's failure that concerns the whole batch) stops every lane before its
next item, as the deadline passing does; items already under way finish. The executor decides what
an item is, what stops, and what becomes of the items not tried.
"""

import contextvars
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connections

Item = TypeVar("Item")
Done = TypeVar("Done")


def in_lanes(items: list[Item], *, owner: Callable[[Item], Hashable], call: Callable[[Item], Done],
             stops: Callable[[Done], bool], in_flight: int, deadline: float
             ) -> tuple[list[Done], list[Item], Done | None]:
    """Call every item; return what the calls gave and the items not tried (lane by lane: the caller
    orders them), and the first result that stopped the batch (None when none did). ``deadline``: time.monotonic()
    after which no lane starts another item."""
    first_stop: list[Done] = []
    stop = threading.Event()

    def lane(mine: list[Item]) -> tuple[list[Done], list[Item]]:
        done: list[Done] = []
        try:
            for n, item in enumerate(mine):
                if stop.is_set() or time.monotonic() > deadline:
                    return done, mine[n:]
                done.append(call(item))
                if stops(done[-1]):
                    first_stop.append(done[-1])
                    stop.set()
            return done, []
        finally:
            connections.close_all()  # this thread's own, if a call opened one

    lanes: dict[Hashable, list[Item]] = {}
    for item in items:
        lanes.setdefault(owner(item), []).append(item)
    # Each lane runs in its own copy of the caller's context: its logs keep the bound values.
    copies = [(contextvars.copy_context(), mine) for mine in lanes.values()]
    with ThreadPoolExecutor(max_workers=max(1, min(in_flight, len(lanes))), thread_name_prefix="lanes") as pool:
        ends = list(pool.map(lambda pair: pair[0].run(lane, pair[1]), copies))
    return _flat(ends, 0), _flat(ends, 1), first_stop[0] if first_stop else None


def _flat(ends: Iterable[tuple[list, list]], part: int) -> list:
    return [x for end in ends for x in end[part]]
