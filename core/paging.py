"""The one keyset pager every list uses: a page of rows after a cursor, and a count that stops at a cap."""

import base64
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_datetime

PAGE_SIZE = 50
COUNT_CAP = 1000


@dataclass
class Page:
    rows: list
    next_cursor: str
    count: int
    count_capped: bool


def encode_cursor(created_at: datetime | None, pk: int) -> str:
    stamp = created_at.isoformat() if created_at else ""
    # No "=" padding: it would be percent-encoded in links and stop decoding on the way back.
    return base64.urlsafe_b64encode(f"{stamp}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, int] | None:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stamp, pk = base64.urlsafe_b64decode(padded.encode()).decode().split("|")
        if not stamp:
            return None, int(pk)
        moment = parse_datetime(stamp)
        return (moment, int(pk)) if moment else None
    except (ValueError, UnicodeDecodeError):
        return None


def keyset_page(qs: QuerySet, *, cursor: str = "", size: int = PAGE_SIZE, time_field: str | None = "created_at") -> Page:
    """One page of a queryset ordered by (time_field desc, id desc) -- or by id alone when ``time_field``
    is None -- and a count that stops at COUNT_CAP.

    Keyset paging reads the next ``size`` rows from an index whatever the page
    number; counting every match of a large table on each page would not be fast.
    The page's ids are found first and its rows (with their per-row subqueries)
    read second, so those subqueries run for ``size`` rows, not for every candidate.
    """
    # values("pk"): the count needs no per-row annotations (sync state, queue state) computed
    count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    position = decode_cursor(cursor) if cursor else None
    ordering = [f"-{time_field}", "-pk"] if time_field else ["-pk"]
    if position:
        moment, pk = position
        if time_field and moment is not None:
            qs = qs.filter(Q(**{f"{time_field}__lt": moment}) | Q(**{time_field: moment, "pk__lt": pk}))
        else:
            qs = qs.filter(pk__lt=pk)
    ids = list(qs.order_by(*ordering).values_list("pk", flat=True)[: size + 1])
    rows = list(qs.filter(pk__in=ids[:size]).order_by(*ordering))
    next_cursor = ""
    if len(ids) > size and rows:
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, time_field) if time_field else None, last.pk)
    return Page(rows=rows, next_cursor=next_cursor, count=min(count, COUNT_CAP), count_capped=count > COUNT_CAP)
