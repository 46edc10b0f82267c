"""What every kind of item shares: the item and group shapes, and reading open items with a fixed number of queries.

Items are read live from the rows that carry each problem. A kind's ``read(ctx)``
returns groups of items with a fixed number of queries, however many rows match:
``open_items`` keeps the unresolved, visible (and maybe "mine") rows, ``page_of``
reads a group's newest rows and leaves its count to ``count_together``, which
counts every group of every kind in one query. ActionItemState adds the human
side: who owns an item, who resolved it. A resolved item comes back when its row
changes after the resolution.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.db.models import CharField, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from action_queue import registry
from action_queue.models import ActionItemState

ROWS_PER_GROUP = 5


def dom_id(kind: str, object_id: str) -> str:
    return f"item-{kind}-{object_id}".replace("_", "-")


@dataclass
class ActionItem:
    kind: str
    object_id: str
    what: str
    reason: str
    since: datetime
    customer_id: int | None = None
    url: str = ""
    url_label: str = "Open"
    opens_customer: bool = False  # the link is the customer's page
    actions: tuple[str, ...] = ()
    system: str = ""
    # Read for every shown item at once (attach_people): the customer, and the owner (the
    # person the item is assigned to, else the person the customer is assigned to).
    customer: object = None
    assignee_id: int | None = None
    assignee: object = None
    links: dict = field(default_factory=dict)  # the row's form actions and its customer's page
    buttons: list["RowButton"] = field(default_factory=list)  # the kind's own actions (retry, replay, ...)

    @cached_property
    def dom_id(self) -> str:
        return dom_id(self.kind, self.object_id)


@dataclass(frozen=True)
class RowButton:
    """One of a kind's own actions on a row: a form posting to ``url``, confirmed first when ``confirm``."""

    name: str
    label: str
    url: str
    confirm: str = ""


@dataclass(frozen=True)
class GroupLink:
    """A step on the whole group, offered once it holds more than one item: "{label} {count}",
    confirmed with "{label} {count} {noun}?"."""

    name: str
    label: str
    url: str
    noun: str = ""


@dataclass
class ActionGroup:
    kind: str
    key: str
    title: str
    count: "int | CountLater"
    items: list[ActionItem]
    system: str = ""
    bulk_if_many: tuple[GroupLink, ...] = ()
    more_url: str = ""  # where the rest of a long group is listed
    more_label: str = ""

    @property
    def bulk_actions(self) -> tuple[str, ...]:
        return tuple(link.name for link in self.bulk_links)

    @property
    def bulk_links(self) -> tuple[GroupLink, ...]:
        return self.bulk_if_many if self.count > 1 else ()

    @property
    def newest(self) -> datetime:
        return max((i.since for i in self.items), default=datetime.min.replace(tzinfo=timezone.get_current_timezone()))

    @property
    def more(self) -> int:
        return max(self.count - len(self.items), 0)


def one_group(kind: str, title: str, count: "int | CountLater", items: list[ActionItem], **fields) -> list[ActionGroup]:
    """A kind's single group (keyed by the kind), or no group when it has no open items."""
    return [ActionGroup(kind, kind, title, count, items, **fields)] if items else []


class Links:
    """reverse() for many rows of the same few URLs: each URL is reversed once per page with
    stand-in ids, and each row's ids are put in their place. Ids of letters, digits, ``_`` and
    ``-`` read the same quoted or not; any other id is reversed the ordinary way."""

    SAFE = re.compile(r"[\w-]+", re.ASCII)
    STAND_INS = ("8" * 17, "9" * 19)  # valid for <int:>, <slug:> and <str:>, unlike any real id

    def __init__(self) -> None:
        self._shapes: dict[str, str] = {}

    def __call__(self, name: str, *args) -> str:
        args = [str(a) for a in args]
        if not all(self.SAFE.fullmatch(a) for a in args):
            return reverse(name, args=args)
        shape = self._shapes.get(name)
        if shape is None:
            shape = self._shapes[name] = reverse(name, args=self.STAND_INS[: len(args)])
        for stand_in, arg in zip(self.STAND_INS, args):
            shape = shape.replace(stand_in, arg)
        return shape


@dataclass
class QueueContext:
    user: object
    mine: bool = False
    only: str | None = None  # one object id: re-render a single row after an action
    limit: int = ROWS_PER_GROUP
    url: Links = field(default_factory=Links)


def open_items(
    qs: QuerySet, *, kind: str, since, ctx: QueueContext, customer_path: str | None = "customer", changed=None
) -> QuerySet:
    """Annotate each problem row with its queue state and keep what is unresolved, visible and (maybe) mine.

    ``since`` is when the problem started (shown); ``changed`` when its row last
    changed: a resolved item whose row changed after the resolution is back.
    """
    state = ActionItemState.objects.filter(kind=kind, object_id=Cast(OuterRef("pk"), CharField())).order_by()
    qs = qs.annotate(q_since=since, q_changed=changed if changed is not None else F("updated_at"))
    if ctx.mine:  # otherwise the assignment of the shown rows is read afterwards, in one query for every kind
        qs = qs.annotate(q_assignee=Subquery(state.values("assigned_to")[:1]))
    # "Not resolved since the row last changed" as NOT EXISTS: an anti-join the database answers
    # with one pass over the states, where a per-row subquery in the filter costs a lookup for
    # every candidate row (and an estimate so high that PostgreSQL compiles the query: 0.5 s).
    # The changed columns are never null, so this keeps exactly the rows the old filter kept.
    qs = qs.filter(~Exists(state.filter(resolved_at__gte=OuterRef("q_changed"))))
    if customer_path is not None:  # "" when the rows are customers themselves
        customers = registry.customers()
        qs = customers.visible(qs, user=ctx.user, path=customer_path)
        if ctx.mine:
            prefix = f"{customer_path}__" if customer_path else ""
            qs = qs.filter(Q(q_assignee=ctx.user.pk) | Q(q_assignee__isnull=True) & customers.owned_by(prefix, ctx.user))
    elif ctx.mine:
        qs = qs.filter(q_assignee=ctx.user.pk)
    if ctx.only is not None:
        qs = qs.filter(pk=ctx.only)
    return qs


@dataclass
class CountLater:
    """A kind's count, asked together with every other kind's in one query (count_together).
    Groups that split one queryset by a field (``by``, each group one ``value`` of it) share one
    grouped count: one read of their index, not one per group."""

    qs: QuerySet
    by: str = ""
    value: str = ""


def page_of(qs: QuerySet, ctx: QueueContext, *, shown: tuple[str, ...]) -> tuple[int | CountLater, list]:
    """A group's newest rows, and its count to be asked later.

    The rows come from an index in q_since order and stop at the limit; the count reads every
    open row, but only the index (a window count on the rows query would read each whole row:
    5-15 times slower at 10,000 rows). No rows means nothing to count (most kinds are empty
    most of the time); any rows are counted, however few, so a page reads as many queries
    whether a group is small or large. Only the fields a row shows (``shown``) are read: fewer
    columns to convert and to set on each object.
    """
    rows = list(qs.only(*shown).order_by("-q_since", "-pk")[: ctx.limit])
    return (CountLater(qs) if rows else 0), rows


def count_together(groups: list[ActionGroup]) -> None:
    """Every group's pending count in one UNION ALL query (a row per group), not one query each."""
    pending = [g for g in groups if isinstance(g.count, CountLater)]
    querysets: list[QuerySet] = []  # one part per queryset, however many groups it splits into
    for group in pending:
        if not any(group.count.qs is qs for qs in querysets):
            querysets.append(group.count.qs)
    if not querysets:
        return
    parts = []
    for i, qs in enumerate(querysets):
        by = next(g.count.by for g in pending if g.count.qs is qs)
        key = F(by) if by else Value("", CharField())
        parts.append(
            qs.order_by().annotate(q_group=Value(i, IntegerField()), q_key=key).values("q_group", "q_key")
            .annotate(q_n=Count("pk")).values_list("q_group", "q_key", "q_n")
        )
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    counts = {(i, key): n for i, key, n in rows}
    for group in pending:
        i = next(i for i, qs in enumerate(querysets) if group.count.qs is qs)
        group.count = counts.get((i, group.count.value), 0)


def _attach_links(items: list[ActionItem], url: Callable[..., str]) -> None:
    page = registry.customers().page
    for item in items:
        links = item.links
        if item.customer:
            links["customer"] = page(item.customer, url)
            if item.opens_customer:
                item.url = links["customer"]
        kind = registry.get(item.kind)
        for name in item.actions:
            action = kind.action(name) if kind else None
            if action is not None:
                links[name] = url(action.url_name, item.object_id)
                confirm = action.confirm.format(system=item.system) if action.confirm else ""
                item.buttons.append(RowButton(name, action.button, links[name], confirm))
            elif name in ("assign", "resolve"):
                links[name] = url(f"queue_{name}", item.kind, item.object_id)


def attach_people(items: list[ActionItem], ctx: QueueContext) -> None:
    """Every shown item's customer and owner, for all kinds at once (two queries): the owner is
    the person the item is assigned to, else the person its customer is assigned to."""
    if not items:
        return
    ids_by_kind: dict[str, list[str]] = {}
    for item in items:
        ids_by_kind.setdefault(item.kind, []).append(item.object_id)
    assigned = Q()
    for kind, ids in ids_by_kind.items():
        assigned |= Q(kind=kind, object_id__in=ids)
    # Of an owner a row shows the email, and compares the id with the person looking
    states = (
        ActionItemState.objects.filter(assigned, assigned_to__isnull=False)
        .select_related("assigned_to").only("kind", "object_id", "assigned_to__email").order_by()
    )
    assignees = {(s.kind, s.object_id): s.assigned_to for s in states}
    customer_ids = {item.customer_id for item in items if item.customer_id}
    customers = registry.customers().read(customer_ids) if customer_ids else {}
    for item in items:
        item.customer = customers.get(item.customer_id)
        item.assignee = assignees.get((item.kind, item.object_id)) or (item.customer.assigned_to if item.customer else None)
        item.assignee_id = item.assignee.pk if item.assignee else None
    _attach_links(items, ctx.url)
