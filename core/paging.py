"""The one keyset pager every list uses: a page of rows after (or before) a cursor, in any of a few
orders a list offers, and a count that stops at a cap."""

import base64
import json
import math
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils.dateparse import parse_datetime

PAGE_SIZE = 50
COUNT_CAP = 1000


@dataclass
class Page:
    rows: list
    next_cursor: str
    count: int
    count_capped: bool
    prev_cursor: str = ""
    size: int = PAGE_SIZE
    order: str = ""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.count / self.size))


@dataclass(frozen=True)
class Position:
    value: object
    pk: int
    backwards: bool


def encode_cursor(value, pk: int, *, backwards: bool = False) -> str:
    if isinstance(value, datetime):
        tagged = ["d", value.isoformat()]
    elif isinstance(value, int) and not isinstance(value, bool):
        tagged = ["i", value]
    else:
        tagged = ["s", "" if value is None else str(value)]
    raw = json.dumps([*tagged, pk, int(backwards)], separators=(",", ":"))
    # No "=" padding: it would be percent-encoded in links and stop decoding on the way back.
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        tag, raw, pk, backwards = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if tag == "d":
            value = parse_datetime(raw)
            if value is None:
                return None
        elif tag == "i":
            value = int(raw)
        else:
            value = str(raw)
        return Position(value, int(pk), bool(backwards))
    except (ValueError, TypeError, UnicodeDecodeError):
        return None


def sort_choice(params: QueryDict, allowed: dict[str, str], default: str) -> tuple[str, str]:
    """The list's ``sort`` parameter if the list offers it (``name``, ``-name``), and the model order it
    stands for; anything else is the default."""
    asked = params.get("sort", "")
    key = asked.lstrip("-")
    if key in allowed:
        return asked, ("-" if asked.startswith("-") else "") + allowed[key]
    return "", default


def keyset_page(qs: QuerySet, *, cursor: str = "", size: int = PAGE_SIZE, time_field: str | None = "created_at",
                order: str = "") -> Page:
    """One page of a queryset ordered by ``order`` (a field, "-" for descending; the primary key breaks
    ties in the same direction), by default newest first by ``time_field`` -- or by id alone when
    that is None -- and a count that stops at COUNT_CAP. The field must not be null.

    Keyset paging reads the next (or, going back, the previous) ``size`` rows from an index whatever
    the page number; counting every match of a large table on each page would not be fast. The
    page's ids are found first and its rows (with their per-row subqueries) read second, so those
    subqueries run for ``size`` rows, not for every candidate.
    """
    order = order or (f"-{time_field}" if time_field else "-pk")
    field, descending = order.lstrip("-"), order.startswith("-")
    # values("pk"): the count needs no per-row annotations (sync state, queue state) computed
    count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    position = decode_cursor(cursor) if cursor else None
    backwards = bool(position and position.backwards)
    ascending = descending == backwards  # the direction rows are read in
    sign = "" if ascending else "-"
    ordering = [f"{sign}{field}"] if field == "pk" else [f"{sign}{field}", f"{sign}pk"]
    if position:
        op = "gt" if ascending else "lt"
        after = Q(**{f"pk__{op}": position.pk})
        if field != "pk":
            after = Q(**{f"{field}__{op}": position.value}) | (Q(**{field: position.value}) & after)
        qs = qs.filter(after)
    ids = list(qs.order_by(*ordering).values_list("pk", flat=True)[: size + 1])
    rows = list(qs.filter(pk__in=ids[:size]).order_by(*ordering))
    more = len(ids) > size
    if backwards:
        rows.reverse()
    first, last = (rows[0], rows[-1]) if rows else (None, None)

    def mark(row, *, back: bool) -> str:
        return encode_cursor(getattr(row, field) if field != "pk" else row.pk, row.pk, backwards=back)

    has_next = more if not backwards else bool(rows)
    has_prev = (more if backwards else position is not None) and bool(rows)
    next_cursor = mark(last, back=False) if has_next and last else ""
    prev_cursor = mark(first, back=True) if has_prev and first else ""
    return Page(rows=rows, next_cursor=next_cursor, count=min(count, COUNT_CAP), count_capped=count > COUNT_CAP,
                prev_cursor=prev_cursor, size=size, order=order)
