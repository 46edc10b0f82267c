"""Reads that feed the customer screens: the list and its search, the customer 360, identity review."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain

from django.db import connection
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast, Coalesce
from django.urls import reverse
from django.utils import timezone

from customers import hooks
from customers.links import link_url
from customers.models import (
    Customer,
    CustomerMerge,
    CustomerNote,
    CustomerStatus,
    DistinctPair,
    ExternalLink,
    System,
)
from customers.notes import may_read_internal
from customers.visibility import customers_visible_to

# --- search and list -------------------------------------------------------------


class SyncState:
    """The list's sync filter: any dead job (failed), else any job waiting or running (pending), else synced."""

    FAILED = "failed"
    PENDING = "pending"
    SYNCED = "synced"
    choices = [(FAILED, "Failed"), (PENDING, "Pending"), (SYNCED, "Synced")]


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
        # An id of a merged-away record finds the customer it was merged into (two merges deep).
        exact = list(
            Customer.objects.filter(public_id=query).order_by()
            .values_list(Coalesce("merged_into__merged_into_id", "merged_into_id", "pk"), flat=True)
            .union(by_link.order_by().values_list(
                Coalesce("customer__merged_into__merged_into_id", "customer__merged_into_id", "customer_id"), flat=True
            ))[:20]
        )
        text = Q(email__icontains=query) | Q(name__icontains=query)
        # ... and so do its email and name
        text |= Q(pk__in=Customer.objects.filter(text, merged_into__isnull=False).values("merged_into_id"))
        if exact and " " not in query:
            qs = qs.filter(pk__in=exact)
        else:  # text with a space may also be part of a name: the exact ids and every text match
            qs = qs.filter((Q(pk__in=exact) | text) if exact else text)
    if status:
        qs = qs.filter(status=status)
    if plan:
        qs = qs.filter(plan=plan)
    qs = qs.annotate(**hooks.job_flags(), since=hooks.since())
    if sync == SyncState.FAILED:
        qs = qs.filter(has_dead_jobs=True)
    elif sync == SyncState.PENDING:
        qs = qs.filter(has_open_jobs=True, has_dead_jobs=False)
    elif sync == SyncState.SYNCED:
        qs = qs.filter(has_open_jobs=False, has_dead_jobs=False)
    return qs.select_related("assigned_to").order_by("-created_at", "-id")


def customer_since(customer: Customer):
    """When one customer began by billing's clock (one query): ``created_at`` is only when Switchboard
    first heard of them, weeks or years later for history that arrives late."""
    return Customer.objects.filter(pk=customer.pk).annotate(since=hooks.since()).values_list("since", flat=True).get()


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


# --- customer 360 ------------------------------------------------------------------

def merged_records(customer: Customer) -> list[dict]:
    """The records merged into this customer, each with the email and outside ids it still holds (an id
    stays on the merged record when the survivor already has one in that system): still theirs to find."""
    old = customer.merged_from.prefetch_related("links").order_by("pk")[:10]
    return [{"record": record, "links": [(link, link_url(link)) for link in record.links.all()]} for record in old]


def customer_360(*, customer: Customer, user) -> dict:
    """Everything the 360 shows of one customer, by the names the page uses; billing rows only for
    those who may see billing."""
    reads = {
        "since": customer_since(customer),
        "links": [(link, link_url(link)) for link in customer.links.all()],
        "sync_states": hooks.sync_state(customer),
        "timeline": customer_timeline(customer, user=user),
        "tickets": list(customer.tickets.all()[:20]),
        "open_merges": customer_open_merges(customer),
        "merged_from": merged_records(customer),
    }
    if user.has_perm("customers.view_billing"):
        reads.update(
            subscriptions=list(customer.subscriptions.all()[:10]),
            invoices=list(customer.invoices.all()[:10]),
            charges=list(customer.charges.all()[:10]),
            refunds=list(customer.refunds.all()[:10]),
            disputes=list(customer.disputes.all()[:10]),
        )
    return reads


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # status / stripe / job / audit
    title: str
    detail: str = ""
    url: str = ""


TIMELINE_PER_SOURCE = 30


NOTE_LABEL = CustomerNote._meta.label


def _audits_for(customer: Customer, *, user) -> QuerySet:
    """The customer's audit entries, without those of notes internal to finance for who may not read them
    (nor know they exist); without a reader, none of them."""
    audits = customer.audit_events.all()
    if user is None or not may_read_internal(user):
        internal = customer.notes.filter(internal=True).annotate(key=Cast("pk", CharField())).values("key")
        audits = audits.exclude(object_type=NOTE_LABEL, object_id__in=internal)
    return audits


def _audit_url(entry) -> str:
    """A note's entries lead to the note on the same page."""
    return f"#note-{entry.object_id}" if entry.object_type == NOTE_LABEL else ""


def customer_timeline(customer: Customer, *, user=None, limit: int = 60) -> list[TimelineEntry]:
    """Status changes, Stripe events, outbound jobs and audit entries in one list, newest first (four
    queries); ``user`` decides whether entries of notes internal to finance are among them."""
    n = TIMELINE_PER_SOURCE
    changes = customer.status_changes.select_related("source_event")[:n]
    events = customer.stripe_events.order_by("-created", "-id").only(
        "id", "customer_id", "type", "status", "created", "stripe_id", "last_error"
    )[:n]
    jobs = customer.sync_jobs.only(
        "id", "customer_id", "system", "action", "status", "created_at", "updated_at", "last_error", "simulated"
    ).order_by("-created_at", "-id")[:n]
    audits = _audits_for(customer, user=user)[:n]
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
        (
            TimelineEntry(a.created_at, "audit", a.summary or a.action, f"by {a.actor_label or 'the system'}",
                          _audit_url(a))
            for a in audits
        ),
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
        .annotate(since=hooks.since())
        .order_by("created_at", "pk")[:5]
    )


def override_conflicts_q() -> Q:
    """A hand-set status that grants access while billing says the customer is not paying."""
    return Q(override_status__in=[CustomerStatus.ACTIVE, CustomerStatus.TRIAL]) & Q(
        status__in=[CustomerStatus.PAST_DUE, CustomerStatus.CANCELED]
    ) & (Q(override_expires_at__isnull=True) | Q(override_expires_at__gt=timezone.now()))
