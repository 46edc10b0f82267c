"""Reads that feed the customer screens and the "needs action now" queue."""

import base64
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from datetime import datetime, timedelta
from itertools import chain

from django.db import connection
from django.db.models import BigIntegerField, CharField, Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce, Least
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.roles import Role, role_of
from billing.currency import format_money
from customers.models import ActionItemState, Customer, CustomerMerge, CustomerStatus, ExternalLink, System
from sync.models import JobStatus, SyncJob

# --- who may see which customer -------------------------------------------------


def sees_every_customer(user) -> bool:
    """Restricted customers are visible to the owner and to the staff holding a grant (their assignee)."""
    return user.is_superuser or role_of(user) == Role.OWNER


def restricted_grants(user) -> QuerySet:
    """Primary keys of the customers this person holds a django-guardian ``view_customer`` grant on
    (assignment grants it), as a subquery: lists filter in the database, never per row."""
    from guardian.models import UserObjectPermission

    return (
        UserObjectPermission.objects.filter(
            user_id=user.pk,
            content_type__app_label="customers",
            content_type__model="customer",
            permission__codename="view_customer",
        )
        .annotate(customer_pk=Cast("object_pk", BigIntegerField()))
        .values("customer_pk")
    )


def customer_visibility_q(user, prefix: str = "") -> Q:
    """The one rule for restricted customers, as a filter on any model that reaches a customer via ``prefix``."""
    if sees_every_customer(user):
        return Q()
    return Q(**{f"{prefix}restricted": False}) | Q(**{f"{prefix}pk__in": restricted_grants(user)})


def visible_through_customer(qs: QuerySet, *, user, prefix: str = "customer__") -> QuerySet:
    """``qs`` narrowed to the rows ``user`` may see through their customer; rows of no customer stay."""
    if sees_every_customer(user):
        return qs
    return qs.filter(Q(**{f"{prefix}isnull": True}) | customer_visibility_q(user, prefix))


def customers_visible_to(*, user) -> QuerySet[Customer]:
    return Customer.objects.filter(customer_visibility_q(user))


def customer_visible(*, user, customer: Customer) -> bool:
    if sees_every_customer(user) or not customer.restricted:
        return True
    return restricted_grants(user).filter(object_pk=str(customer.pk)).exists()


# --- search and list -------------------------------------------------------------

PAGE_SIZE = 50
COUNT_CAP = 1000


class SyncState:
    FAILED = "failed"
    PENDING = "pending"
    SYNCED = "synced"
    choices = [(FAILED, "Failed"), (PENDING, "Pending"), (SYNCED, "Synced")]


def _dead_jobs_exist() -> Exists:
    return Exists(SyncJob.objects.filter(customer=OuterRef("pk"), status=JobStatus.DEAD))


def _open_jobs_exist() -> Exists:
    return Exists(
        SyncJob.objects.filter(
            customer=OuterRef("pk"), status__in=[JobStatus.PENDING, JobStatus.RUNNING, JobStatus.RETRYING]
        )
    )


def customer_search(*, user, query: str = "", status: str = "", plan: str = "", sync: str = "") -> QuerySet[Customer]:
    """Customers matching the search and filters, newest first, each with its sync state.

    An exact Switchboard or outside id is found through the indexes first (one
    small query); any other text matches part of an email or name, which
    PostgreSQL answers from trigram indexes (migration customers 0006) and
    SQLite by reading every row.
    """
    qs = customers_visible_to(user=user).live()
    query = query.strip()
    if query:
        by_link = ExternalLink.objects.filter(external_id=query)
        # A UNION of the two id lookups, not an OR: an OR of an indexed column and a
        # subquery is a filter PostgreSQL applies to every customer (70 ms at 100,000).
        exact = list(
            Customer.objects.filter(public_id=query).order_by().values_list("pk", flat=True)
            .union(by_link.order_by().values_list("customer_id", flat=True))[:20]
        )
        text = Q(email__icontains=query) | Q(name__icontains=query)
        if exact and " " not in query:
            qs = qs.filter(pk__in=exact)
        else:  # text with a space may also be part of a name: the exact ids and every text match
            qs = qs.filter((Q(pk__in=exact) | text) if exact else text)
    if status:
        qs = qs.filter(status=status)
    if plan:
        qs = qs.filter(plan=plan)
    qs = qs.annotate(has_dead_jobs=_dead_jobs_exist(), has_open_jobs=_open_jobs_exist(), since=billing_since())
    if sync == SyncState.FAILED:
        qs = qs.filter(has_dead_jobs=True)
    elif sync == SyncState.PENDING:
        qs = qs.filter(has_open_jobs=True, has_dead_jobs=False)
    elif sync == SyncState.SYNCED:
        qs = qs.filter(has_open_jobs=False, has_dead_jobs=False)
    return qs.select_related("assigned_to").order_by("-created_at", "-id")


def billing_since() -> Least:
    """When a customer began by billing's clock: its Stripe customer's creation or its first Stripe
    event, whichever is earlier. ``created_at`` is only when Switchboard first heard of them, which
    for history that arrives late (an import, a replay, a new install) is weeks or years after."""
    from billing.models import StripeCustomer, StripeEvent

    first_event = StripeEvent.objects.filter(customer=OuterRef("pk")).order_by("created").values("created")[:1]
    stripe_created = (StripeCustomer.objects.filter(customer=OuterRef("pk"), stripe_created__isnull=False)
                      .order_by("stripe_created").values("stripe_created")[:1])
    # Coalesced one by one: SQLite's MIN() of several values is NULL as soon as one is.
    return Least(Coalesce(Subquery(first_event), F("created_at")), Coalesce(Subquery(stripe_created), F("created_at")))


def customer_since(customer: Customer):
    """``billing_since`` of one customer (one query)."""
    return Customer.objects.filter(pk=customer.pk).annotate(since=billing_since()).values_list("since", flat=True).get()


def plans_in_use() -> list[str]:
    """The plans to filter by, in order.

    A DISTINCT reads every entry of the plan index (15-70 ms at 100,000 customers);
    this walks it instead, one probe per plan: each step asks for the smallest plan
    after the last one (a "loose index scan", which neither database does by itself).
    """
    table = connection.ops.quote_name(Customer._meta.db_table)
    column = connection.ops.quote_name(Customer._meta.get_field("plan").column)
    sql = (
        f"WITH RECURSIVE plans (plan) AS ("
        f" SELECT MIN({column}) FROM {table} WHERE {column} > ''"
        f" UNION ALL"
        f" SELECT (SELECT MIN({column}) FROM {table} WHERE {column} > plans.plan) FROM plans"
        f" WHERE plans.plan IS NOT NULL"
        f") SELECT plan FROM plans WHERE plan IS NOT NULL LIMIT 50"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


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
    read second, so those subqueries run for 50 rows, not for every candidate.
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


# --- customer 360 ------------------------------------------------------------------

@dataclass
class SystemSync:
    system: str
    label: str
    state: str  # synced / pending / failed / never
    last_job: SyncJob | None
    counts: dict = field(default_factory=dict)


def customer_sync_state(customer: Customer) -> list[SystemSync]:
    """Per outside system: synced, pending or failed, with the latest job (two queries)."""
    counts: dict[str, Counter] = {}
    for row in customer.sync_jobs.order_by().values("system", "status").annotate(n=Count("id")):
        counts.setdefault(row["system"], Counter())[row["status"]] = row["n"]
    latest_ids = customer.sync_jobs.order_by().values("system").annotate(last=Max("id")).values_list("last", flat=True)
    latest = {job.system: job for job in SyncJob.objects.filter(pk__in=list(latest_ids))}
    states = []
    for value, label in System.choices:
        if value == System.STRIPE:
            continue
        c = counts.get(value, Counter())
        if c[JobStatus.DEAD]:
            state = SyncState.FAILED
        elif c[JobStatus.PENDING] or c[JobStatus.RUNNING] or c[JobStatus.RETRYING]:
            state = SyncState.PENDING
        elif c[JobStatus.SUCCEEDED]:
            state = SyncState.SYNCED
        elif c[JobStatus.SET_ASIDE]:  # failed, and a person decided it will not be fixed
            state = JobStatus.SET_ASIDE
        else:
            state = "never"
        states.append(SystemSync(value, label, state, latest.get(value), dict(c)))
    return states


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # status / stripe / job / audit
    title: str
    detail: str = ""
    url: str = ""


TIMELINE_PER_SOURCE = 30


def customer_timeline(customer: Customer, *, limit: int = 60) -> list[TimelineEntry]:
    """Status changes, Stripe events, outbound jobs and audit entries in one list, newest first (four queries)."""
    from django.urls import reverse

    n = TIMELINE_PER_SOURCE
    changes = customer.status_changes.select_related("source_event")[:n]
    events = customer.stripe_events.order_by("-created", "-id").only(
        "id", "customer_id", "type", "status", "created", "stripe_id", "last_error"
    )[:n]
    jobs = customer.sync_jobs.only(
        "id", "customer_id", "system", "action", "status", "created_at", "updated_at", "last_error", "simulated"
    ).order_by("-created_at", "-id")[:n]
    audits = customer.audit_events.all()[:n]
    entries = chain(
        (
            TimelineEntry(
                # When billing changed (the event that caused it), not when Switchboard applied it.
                c.source_event.created if c.source_event_id else c.created_at,
                "status",
                f"Status {c.get_from_status_display() or '—'} → {c.get_to_status_display()}",
                c.reason,
                reverse("event_detail", args=[c.source_event_id]) if c.source_event_id else "",
            )
            for c in changes
        ),
        (
            TimelineEntry(
                e.created,
                "stripe",
                f"Stripe {e.type}",
                f"{e.get_status_display()}" + (f": {e.last_error}" if e.last_error else ""),
                reverse("event_detail", args=[e.pk]),
            )
            for e in events
        ),
        (
            TimelineEntry(
                j.updated_at,
                "job",
                f"{j.get_system_display()} {j.action}: {j.get_status_display().lower()}"
                + (" (simulated: nothing was sent)" if j.simulated else ""),
                j.last_error,
                reverse("job_detail", args=[j.pk]),
            )
            for j in jobs
        ),
        (TimelineEntry(a.created_at, "audit", a.summary or a.action, f"by {a.actor_label or 'the system'}") for a in audits),
    )
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]


def customer_open_merges(customer: Customer) -> list[CustomerMerge]:
    """Merges into this customer that can still be undone."""
    since = timezone.now() - timedelta(hours=CustomerMerge.UNDO_WINDOW_HOURS)
    return list(
        customer.merges_survived.filter(undone_at__isnull=True, created_at__gt=since).select_related("merged")
    )


def identity_candidates(*, customer: Customer, user) -> list[Customer]:
    """Live customers this one may be the same person as: same email, not already marked distinct."""
    from customers.models import DistinctPair

    if not customer.email:
        return []
    distinct = DistinctPair.objects.filter(Q(low=customer) | Q(high=customer)).values_list("low_id", "high_id")
    excluded = {pk for pair in distinct for pk in pair}
    return list(
        customers_visible_to(user=user)
        .live()
        .filter(email__iexact=customer.email)
        .exclude(pk=customer.pk)
        .exclude(pk__in=excluded)
        .prefetch_related("links", "subscriptions")
        .annotate(since=billing_since())
        .order_by("created_at", "pk")[:5]
    )


def override_conflicts_q() -> Q:
    """A hand-set status that grants access while billing says the customer is not paying."""
    return Q(override_status__in=[CustomerStatus.ACTIVE, CustomerStatus.TRIAL]) & Q(
        status__in=[CustomerStatus.PAST_DUE, CustomerStatus.CANCELED]
    ) & (Q(override_expires_at__isnull=True) | Q(override_expires_at__gt=timezone.now()))


# --- the "needs action now" queue -------------------------------------------------------
#
# Items are read live from the rows that carry each problem. A provider is one
# function per kind of problem: it checks what the person may act on, and
# returns groups of items with a fixed number of queries, however many rows
# match. ActionItemState adds the human side: who owns an item, who resolved it.
# A resolved item comes back when its row changes after the resolution.

ROWS_PER_GROUP = 5


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
    # Read for every shown item at once (_attach_people): the customer, and the owner (the
    # person the item is assigned to, else the person the customer is assigned to).
    customer: Customer | None = None
    assignee_id: int | None = None
    assignee: object = None
    links: dict = field(default_factory=dict)  # the row's form actions and its customer's page

    @cached_property
    def dom_id(self) -> str:
        return f"item-{self.kind}-{self.object_id}".replace("_", "-")


@dataclass
class ActionGroup:
    kind: str
    key: str
    title: str
    count: int
    items: list[ActionItem]
    system: str = ""
    bulk_if_many: tuple[str, ...] = ()  # actions on the whole group, offered once it holds more than one item

    @property
    def bulk_actions(self) -> tuple[str, ...]:
        return self.bulk_if_many if self.count > 1 else ()

    @property
    def newest(self) -> datetime:
        return max((i.since for i in self.items), default=datetime.min.replace(tzinfo=timezone.get_current_timezone()))

    @property
    def more(self) -> int:
        return max(self.count - len(self.items), 0)


class _Links:
    """reverse() for many rows of the same few URLs: each URL is reversed once per page with
    stand-in ids, and each row's ids are put in their place. Ids of letters, digits, ``_`` and
    ``-`` read the same quoted or not; any other id is reversed the ordinary way."""

    SAFE = re.compile(r"[\w-]+", re.ASCII)
    STAND_INS = ("8" * 17, "9" * 19)  # valid for <int:>, <slug:> and <str:>, unlike any real id

    def __init__(self) -> None:
        self._shapes: dict[str, str] = {}

    def __call__(self, name: str, *args) -> str:
        from django.urls import reverse

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
    url: _Links = field(default_factory=_Links)


ACTION_PROVIDERS: dict = {}
# kind -> may this person act on items of this kind at all (the view refuses the rest with 403)
ACTION_ALLOWED: dict = {}


# kind -> (model label, path from the row to its customer: "" for customers, None for none)
ACTION_ROWS: dict = {}


def action_provider(kind: str, *, allowed, model: str, customer_path: str | None = "customer"):
    """Register a provider of one kind of queue item, who may act on that kind, and the rows it reads."""

    def register(func):
        ACTION_PROVIDERS[kind] = func
        ACTION_ALLOWED[kind] = allowed
        ACTION_ROWS[kind] = (model, customer_path)
        return func

    return register


def action_kind_allowed(*, user, kind: str) -> bool:
    check = ACTION_ALLOWED.get(kind)
    return bool(check and check(user))


def action_object_allowed(*, user, kind: str, object_id: str) -> bool:
    """May this person act on this row at all (whatever its queue state)? A row that is gone is nobody's."""
    from django.apps import apps

    from sync.selectors import retryable_systems

    if not action_kind_allowed(user=user, kind=kind) or not str(object_id).isdigit():
        return False
    label, path = ACTION_ROWS[kind]
    model = apps.get_model(label)
    rows = model.objects.filter(pk=object_id)
    if not rows.exists():
        return True
    if path is not None and not sees_every_customer(user):
        visible = customer_visibility_q(user, f"{path}__" if path else "")
        rows = rows.filter(visible | Q(**{f"{path}__isnull": True})) if path else rows.filter(visible)
    if kind == "dead_job":
        rows = rows.filter(system__in=retryable_systems(user))
    return rows.exists()


def _retries_something(user) -> bool:
    from sync.selectors import retryable_systems

    return bool(retryable_systems(user))


def _has(perm: str):
    return lambda user: user.has_perm(perm)


def _open_items(
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
        prefix = f"{customer_path}__" if customer_path else ""
        if not sees_every_customer(ctx.user):
            visible = customer_visibility_q(ctx.user, prefix)
            qs = qs.filter(visible | Q(**{f"{customer_path}__isnull": True}) if customer_path else visible)
        if ctx.mine:
            qs = qs.filter(Q(q_assignee=ctx.user.pk) | Q(q_assignee__isnull=True, **{f"{prefix}assigned_to": ctx.user.pk}))
    elif ctx.mine:
        qs = qs.filter(q_assignee=ctx.user.pk)
    if ctx.only is not None:
        qs = qs.filter(pk=ctx.only)
    return qs



@dataclass
class _CountLater:
    """A kind's count, asked together with every other kind's in one query (_count_together).
    Groups that split one queryset by a field (``by``, each group one ``value`` of it) share one
    grouped count: one read of their index, not one per group."""

    qs: QuerySet
    by: str = ""
    value: str = ""


def _page(qs: QuerySet, ctx: QueueContext, *, shown: tuple[str, ...]) -> tuple[int | _CountLater, list]:
    # The rows come from an index in q_since order and stop at the limit; the count reads every
    # open row, but only the index (a window count on the rows query would read each whole row:
    # 5-15 times slower at 10,000 rows). No rows means nothing to count (most kinds are empty
    # most of the time); any rows are counted, however few, so a page reads as many queries
    # whether a group is small or large.
    # Only the fields a row shows (``shown``) are read: fewer columns to convert and to set on each object.
    rows = list(qs.only(*shown).order_by("-q_since", "-pk")[: ctx.limit])
    return (_CountLater(qs) if rows else 0), rows


def _count_together(groups: list[ActionGroup]) -> None:
    """Every group's pending count in one UNION ALL query (a row per group), not one query each."""
    from django.db.models import IntegerField, Value

    pending = [g for g in groups if isinstance(g.count, _CountLater)]
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


@action_provider("dead_job", allowed=_retries_something, model="sync.SyncJob")
def dead_job_items(ctx: QueueContext) -> list[ActionGroup]:
    """Dead outbound jobs, one group per system, for the systems this person may retry."""
    from sync.selectors import retryable_systems

    systems = retryable_systems(ctx.user)
    if not systems:
        return []
    base = _open_items(
        SyncJob.objects.filter(status=JobStatus.DEAD, system__in=systems),
        kind="dead_job",
        since=Coalesce("finished_at", "updated_at"),
        ctx=ctx,
    )
    # Each system's newest rows from the dead-job index, all systems in one round trip; each
    # system with rows is counted in the merged count query. (Ranking every dead job with a
    # window in one query reads all of them: 6x slower at 3,000.)
    labels = dict(System.choices)
    shown = [system for system, _ in System.choices if system in systems]
    rows_by_system: dict[str, list[SyncJob]] = defaultdict(list)
    for job in _newest_per_system(base, shown, ctx.limit):
        rows_by_system[job.system].append(job)
    groups = []
    for system in shown:
        rows = sorted(rows_by_system[system], key=lambda job: (job.finished_at or job.updated_at, job.pk), reverse=True)
        if not rows:
            continue
        label = labels[system]
        items = [
            ActionItem(
                kind="dead_job",
                object_id=str(job.pk),
                what=f"{label} {job.action} failed for good",
                reason=f"{job.get_reason_code_display() or 'Failed'}: {job.last_error}" if job.last_error else (job.get_reason_code_display() or "Failed"),
                since=job.finished_at or job.updated_at,  # the Coalesce the rows are ordered by
                customer_id=job.customer_id,
                url=ctx.url("job_detail", job.pk),
                url_label="Details",
                actions=("retry", "assign", "resolve"),
                system=system,
            )
            for job in rows
        ]
        groups.append(
            ActionGroup(
                kind="dead_job",
                key=f"dead_job:{system}",
                title=f"Dead {label} jobs",
                count=_CountLater(base, by="system", value=system),
                items=items,
                system=system,
                bulk_if_many=() if ctx.mine else ("retry_all",),
            )
        )
    return groups


def _newest_per_system(base: QuerySet, systems: list[str], limit: int):
    """Each system's newest ``limit`` rows of ``base``, every system in one query: a UNION ALL of
    one LIMITed read of the index per system. Each read is a subquery of its own, as SQLite
    takes no ORDER BY or LIMIT in the parts of a compound query itself."""
    fields = ("system", "action", "reason_code", "last_error", "customer_id", "finished_at", "updated_at")
    parts, params = [], []
    for system in systems:
        qs = base.filter(system=system).only(*fields).order_by("-q_since", "-pk")[:limit]
        sql, part_params = qs.query.sql_with_params()
        parts.append(f"SELECT * FROM ({sql}) AS {connection.ops.quote_name(f'q_{system}')}")
        params.extend(part_params)
    if not parts:
        return []
    return SyncJob.objects.raw(" UNION ALL ".join(parts), params)


@action_provider("system", allowed=_has("sync.pause_system"), model="sync.SystemState", customer_path=None)
def system_items(ctx: QueueContext) -> list[ActionGroup]:
    """An outside system that is paused or failing as a whole (credentials rejected, breaker open)."""
    from sync.models import SystemState

    if not ctx.user.has_perm("sync.pause_system"):
        return []
    now = timezone.now()
    qs = _open_items(
        SystemState.objects.filter(
            Q(paused=True) | Q(breaker_open_until__gt=now) | Q(last_failure_reason="auth_failed", consecutive_failures__gt=0)
        ),
        kind="system",
        since=Coalesce("paused_at", "updated_at"),
        ctx=ctx,
        customer_path=None,
    )
    count, rows = _page(qs, ctx, shown=("system", "paused", "paused_reason", "last_failure_reason", "consecutive_failures", "breaker_open_until"))
    labels = dict(System.choices) | {SystemState.ALL: "Every system"}
    items = []
    for state in rows:
        label = labels.get(state.system, state.system)
        if state.paused:
            what, reason = f"{label} is paused", state.paused_reason or "Paused by staff"
        elif state.last_failure_reason == "auth_failed":
            what, reason = f"{label} rejects our credentials", f"{state.consecutive_failures} failures in a row"
        else:
            what, reason = f"{label} is failing", f"{state.consecutive_failures} failures in a row; calls paused until {timezone.localtime(state.breaker_open_until):%H:%M}" if state.breaker_open_until else "Failing"
        items.append(
            ActionItem(
                kind="system",
                object_id=str(state.pk),
                what=what,
                reason=reason,
                since=state.q_since,
                url=ctx.url("system_list"),
                url_label="Systems",
                actions=("resume", "assign", "resolve") if state.paused else ("assign", "resolve"),
                system=state.system,
            )
        )
    return [ActionGroup("system", "system", "Systems failing or paused", count, items)] if items else []


@action_provider("needs_review", allowed=_has("customers.merge_customer"), model="customers.Customer", customer_path="")
def needs_review_items(ctx: QueueContext) -> list[ActionGroup]:
    """Customers whose identity could not be matched safely: a person decides (merge or distinct)."""
    if not ctx.user.has_perm("customers.merge_customer"):
        return []
    qs = _open_items(
        Customer.objects.live().filter(status=CustomerStatus.NEEDS_REVIEW),
        kind="needs_review",
        since=F("updated_at"),
        ctx=ctx,
        customer_path="",
    )
    count, rows = _page(qs, ctx, shown=("public_id", "review_reason", "status_reason"))
    items = [
        ActionItem(
            kind="needs_review",
            object_id=str(c.pk),
            what="Identity needs a decision",
            reason=c.review_reason or c.status_reason or "Could not be matched safely",
            since=c.q_since,
            customer_id=c.pk,
            url=ctx.url("customer_review", c.public_id),
            url_label="Review",
            actions=("assign",),
        )
        for c in rows
    ]
    return [ActionGroup("needs_review", "needs_review", "Customers to review", count, items)] if items else []


@action_provider(
    "override_conflict", allowed=_has("customers.override_status"), model="customers.Customer", customer_path=""
)
def override_conflict_items(ctx: QueueContext) -> list[ActionGroup]:
    """A manual override grants access that billing no longer backs."""
    if not ctx.user.has_perm("customers.override_status"):
        return []
    qs = _open_items(
        Customer.objects.live().filter(override_conflicts_q()),
        kind="override_conflict",
        since=F("updated_at"),
        ctx=ctx,
        customer_path="",
    )
    count, rows = _page(qs, ctx, shown=("public_id", "status", "override_status", "override_reason"))
    items = [
        ActionItem(
            kind="override_conflict",
            object_id=str(c.pk),
            what=f"Override says {c.get_override_status_display().lower()}, billing says {c.get_status_display().lower()}",
            reason=f"Override: {c.override_reason}" if c.override_reason else "",
            since=c.q_since,
            customer_id=c.pk,
            url=ctx.url("customer_detail", c.public_id),
            url_label="Open customer",
            actions=("assign", "resolve"),
        )
        for c in rows
    ]
    return [ActionGroup("override_conflict", "override_conflict", "Overrides against billing", count, items)] if items else []


@action_provider("failed_payment", allowed=_has("billing.issue_refund"), model="billing.Invoice")
def failed_payment_items(ctx: QueueContext) -> list[ActionGroup]:
    """Invoices whose latest payment failed and that nobody has followed up yet."""
    from billing.models import Invoice

    if not ctx.user.has_perm("billing.issue_refund"):
        return []
    qs = _open_items(
        Invoice.objects.filter(payment_failed=True, status="open", customer__isnull=False),
        kind="failed_payment",
        # Since Stripe's latest declined attempt (the newest event applied to the invoice), not since
        # the row was written: history that arrives late is days old.
        since=Coalesce("last_event_created", "updated_at"),
        ctx=ctx,
    )
    count, rows = _page(qs, ctx, shown=("customer_id", "amount_due", "currency", "number", "stripe_id", "attempt_count"))
    items = [
        ActionItem(
            kind="failed_payment",
            object_id=str(inv.pk),
            what=f"Payment failed: {format_money(inv.amount_due, inv.currency)}",
            reason=f"Invoice {inv.number or inv.stripe_id}, {inv.attempt_count} attempt{'s' if inv.attempt_count != 1 else ''}",
            since=inv.q_since,
            customer_id=inv.customer_id,
            url_label="Open customer",
            opens_customer=True,
            actions=("assign", "resolve"),
        )
        for inv in rows
    ]
    return [ActionGroup("failed_payment", "failed_payment", "Failed payments without follow-up", count, items)] if items else []


OPEN_DISPUTE_STATUSES = ["warning_needs_response", "needs_response", "warning_under_review", "under_review"]


@action_provider("dispute", allowed=_has("billing.issue_refund"), model="billing.Dispute")
def dispute_items(ctx: QueueContext) -> list[ActionGroup]:
    from billing.models import Dispute

    if not ctx.user.has_perm("billing.issue_refund"):
        return []
    qs = _open_items(
        Dispute.objects.filter(status__in=OPEN_DISPUTE_STATUSES),
        kind="dispute",
        since=Coalesce("stripe_created", "created_at"),
        ctx=ctx,
    )
    count, rows = _page(qs, ctx, shown=("customer_id", "status", "amount", "currency", "reason", "evidence_due_by"))
    items = []
    for d in rows:
        due = f"; evidence due {timezone.localtime(d.evidence_due_by):%d %b %H:%M}" if d.evidence_due_by else ""
        items.append(
            ActionItem(
                kind="dispute",
                object_id=str(d.pk),
                what=f"Dispute {d.status.replace('_', ' ')}: {format_money(d.amount, d.currency)}",
                reason=f"{d.reason.replace('_', ' ') or 'No reason given'}{due}",
                since=d.q_since,
                customer_id=d.customer_id,
                url_label="Open customer",
                opens_customer=True,
                actions=("assign", "resolve"),
            )
        )
    return [ActionGroup("dispute", "dispute", "Open disputes", count, items)] if items else []


@action_provider("failed_event", allowed=_has("billing.replay_event"), model="billing.StripeEvent")
def failed_event_items(ctx: QueueContext) -> list[ActionGroup]:
    """Stripe events we stored but could not apply."""
    from billing.models import EventStatus, StripeEvent

    if not ctx.user.has_perm("billing.replay_event"):
        return []
    qs = _open_items(
        StripeEvent.objects.filter(status=EventStatus.FAILED),
        kind="failed_event",
        since=F("received_at"),
        changed=Coalesce("next_attempt_at", "received_at"),
        ctx=ctx,
    )
    count, rows = _page(qs, ctx, shown=("customer_id", "type", "last_error", "error_class"))
    actions = ("replay", "assign", "resolve")
    items = [
        ActionItem(
            kind="failed_event",
            object_id=str(e.pk),
            what=f"Stripe {e.type} could not be applied",
            reason=e.last_error or e.error_class or "Processing failed",
            since=e.q_since,
            customer_id=e.customer_id,
            url=ctx.url("event_detail", e.pk),
            url_label="Event",
            actions=actions,
        )
        for e in rows
    ]
    return [ActionGroup("failed_event", "failed_event", "Webhook events that failed", count, items)] if items else []


@action_provider("refund_approval", allowed=_has("billing.approve_refund"), model="billing.RefundRequest")
def refund_approval_items(ctx: QueueContext) -> list[ActionGroup]:
    """Refunds above the approval limit, waiting for an owner other than the one who asked."""
    from billing.models import RefundRequest, RefundStatus

    if not ctx.user.has_perm("billing.approve_refund"):
        return []
    qs = _open_items(
        RefundRequest.objects.filter(status=RefundStatus.AWAITING_APPROVAL).exclude(requested_by=ctx.user),
        kind="refund_approval",
        since=F("created_at"),
        ctx=ctx,
    ).select_related("requested_by")
    count, rows = _page(qs, ctx, shown=("customer_id", "amount", "currency", "reason", "note", "requested_by__email"))
    items = [
        ActionItem(
            kind="refund_approval",
            object_id=str(r.pk),
            what=f"Refund of {format_money(r.amount, r.currency)} waits for your approval",
            reason=f"{r.get_reason_display()}, asked by {r.requested_by.email if r.requested_by else 'someone'}"
            + (f": {r.note}" if r.note else ""),
            since=r.q_since,
            customer_id=r.customer_id,
            url=ctx.url("refund_detail", r.pk),
            url_label="Decide",
            actions=("assign",),
        )
        for r in rows
    ]
    return [ActionGroup("refund_approval", "refund_approval", "Refunds waiting for approval", count, items)] if items else []


@action_provider("incident", allowed=_has("monitoring.view_health"), model="monitoring.Incident", customer_path=None)
def incident_items(ctx: QueueContext) -> list[ActionGroup]:
    """Open alert incidents: something is broken for many customers at once."""
    from monitoring.models import Incident
    from monitoring.rules import rule_title

    if not ctx.user.has_perm("monitoring.view_health"):
        return []
    qs = _open_items(
        Incident.objects.filter(resolved_at__isnull=True), kind="incident", since=F("opened_at"), ctx=ctx,
        customer_path=None,
    )
    count, rows = _page(qs, ctx, shown=("summary", "rule", "link", "notified_open"))
    items = [
        ActionItem(
            kind="incident",
            object_id=str(i.pk),
            what=i.summary,
            # a message that could not be sent yet is worth knowing: the alert channel may be broken
            reason=rule_title(i.rule) + ("" if i.notified_open else " · no message has gone out yet: check the alert channel"),
            since=i.q_since,
            url=i.link,
            url_label="Fix it",
            actions=("assign",),
        )
        for i in rows
    ]
    return [ActionGroup("incident", "incident", "Open incidents", count, items)] if items else []


@action_provider("stripe_drift", allowed=_has("monitoring.view_health"), model="monitoring.Drift")
def drift_items(ctx: QueueContext) -> list[ActionGroup]:
    """Differences between Stripe and our mirrors found by reconciliation."""
    from monitoring.models import Drift

    if not ctx.user.has_perm("monitoring.view_health"):
        return []
    qs = _open_items(
        Drift.objects.open(), kind="stripe_drift", since=F("found_at"), changed=F("found_at"), ctx=ctx
    )
    count, rows = _page(qs, ctx, shown=("customer_id", "object_type", "stripe_id", "kind", "field", "ours", "stripes"))
    items = [
        ActionItem(
            kind="stripe_drift",
            object_id=str(d.pk),
            what=f"{d.object_type} {d.stripe_id}: {d.get_kind_display().lower()}" + (f" ({d.field})" if d.field else ""),
            reason=f"Switchboard has {d.ours or 'nothing'}, Stripe has {d.stripes or 'nothing'}; "
            "repair with manage.py reconcile_stripe --apply",
            since=d.q_since,
            customer_id=d.customer_id,
            actions=("assign", "resolve"),
        )
        for d in rows
    ]
    return [ActionGroup("stripe_drift", "stripe_drift", "Differences with Stripe", count, items)] if items else []


@action_provider("support_ticket", allowed=_has("support.open_ticket"), model="support.Ticket")
def support_ticket_items(ctx: QueueContext) -> list[ActionGroup]:
    """Tickets kept here that the support desk does not have yet: no customer matched, or the desk is failing."""
    from support.models import Ticket, TicketStatus

    if not ctx.user.has_perm("support.open_ticket"):
        return []
    waiting = Q(needs_match=True) | Q(sync_job__isnull=True) | Q(sync_job__status__in=[JobStatus.RETRYING, JobStatus.DEAD])
    qs = _open_items(
        Ticket.objects.filter(waiting, status=TicketStatus.PENDING), kind="support_ticket", since=F("created_at"), ctx=ctx
    ).select_related("sync_job")
    count, rows = _page(qs, ctx, shown=("customer_id", "subject", "sync_job__status", "sync_job__last_error"))
    items = [
        ActionItem(
            kind="support_ticket",
            object_id=str(t.pk),
            what=f"Ticket not in the support desk: {t.subject}",
            reason="No single customer has this email; link it to one"
            if t.customer_id is None
            else f"The desk has not accepted it yet ({t.sync_job.last_error or t.sync_job.status if t.sync_job else 'no job'})",
            since=t.q_since,
            customer_id=t.customer_id,
            url=ctx.url("support_ticket_detail", t.pk),
            url_label="Open ticket",
            actions=("assign", "resolve"),
        )
        for t in rows
    ]
    return [ActionGroup("support_ticket", "support_ticket", "Tickets waiting for the support desk", count, items)] if items else []


@dataclass
class Queue:
    groups: list[ActionGroup]
    mine: bool

    @property
    def total(self) -> int:
        return sum(g.count for g in self.groups)


ROW_ACTION_URLS = {"retry": "queue_retry", "replay": "queue_replay", "resume": "queue_resume"}


def _attach_links(items: list[ActionItem], url: _Links) -> None:
    for item in items:
        links = item.links
        if item.customer:
            links["customer"] = url("customer_detail", item.customer.public_id)
            if item.opens_customer:
                item.url = links["customer"]
        for action in item.actions:
            if action in ROW_ACTION_URLS:
                links[action] = url(ROW_ACTION_URLS[action], item.object_id)
            elif action in ("assign", "resolve"):
                links[action] = url(f"queue_{action}", item.kind, item.object_id)


def _attach_people(items: list[ActionItem], ctx: QueueContext) -> None:
    """Every shown item's customer and owner, for all kinds at once (two queries): the owner is
    the person the item is assigned to, else the person its customer is assigned to."""
    if not items:
        return
    ids_by_kind: dict[str, list[str]] = defaultdict(list)
    for item in items:
        ids_by_kind[item.kind].append(item.object_id)
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
    # What a row shows of its customer (customers/_status.html) and who the customer is assigned to
    shown = ("public_id", "name", "email", "status", "override_status", "override_reason", "override_expires_at",
             "restricted", "assigned_to__email")
    customers = (
        Customer.objects.select_related("assigned_to").only(*shown).in_bulk(customer_ids) if customer_ids else {}
    )
    for item in items:
        item.customer = customers.get(item.customer_id)
        item.assignee = assignees.get((item.kind, item.object_id)) or (item.customer.assigned_to if item.customer else None)
        item.assignee_id = item.assignee.pk if item.assignee else None
    _attach_links(items, ctx.url)


def action_items_for(*, user, mine: bool = False) -> Queue:
    """Every open item this person may act on, grouped, newest problems first."""
    ctx = QueueContext(user=user, mine=mine)
    groups = [group for provider in ACTION_PROVIDERS.values() for group in provider(ctx)]
    groups.sort(key=lambda g: g.newest, reverse=True)
    _count_together(groups)
    _attach_people([i for g in groups for i in g.items], ctx)
    return Queue(groups=groups, mine=mine)


def action_item_for(*, user, kind: str, object_id: str) -> ActionItem | None:
    """One open item, if it exists and this person may act on it."""
    provider = ACTION_PROVIDERS.get(kind)
    object_id = str(object_id)
    if provider is None or not object_id.isdigit():
        return None
    ctx = QueueContext(user=user, only=object_id, limit=1)
    items = [i for g in provider(ctx) for i in g.items]  # its group's count is never asked
    _attach_people(items, ctx)
    return items[0] if items else None


def last_event_received_at():
    from billing.models import StripeEvent

    # newest row by primary key (received_at is set on insert): an index read, not a sort of every event
    return StripeEvent.objects.order_by("-pk").values_list("received_at", flat=True).first()
