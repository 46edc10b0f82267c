"""Fill the bench database fast: rows in the shapes the screens read, written with PostgreSQL COPY.

``fill(start=..., customers=...)`` adds one slice of customers with their events, jobs and
mirrors; called twice (1 %, then the rest) it lets the screens be measured at two sizes.
Event payloads are small event envelopes, not full Stripe objects: the screens never read
them, and a million 4 KB payloads would cost minutes of COPY for nothing the pages show.
"""

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

STATUSES = [("active", 70), ("trial", 10), ("past_due", 8), ("canceled", 10), ("needs_review", 2)]
PLANS = [("Starter", 1900), ("Pro", 4900), ("Business", 19900)]
EVENT_TYPES = ["customer.updated", "customer.subscription.updated", "invoice.paid", "invoice.payment_succeeded",
               "charge.succeeded", "payment_intent.succeeded", "invoice.payment_failed", "customer.created"]
JOB_KINDS = [("crm", "upsert_contact"), ("support", "upsert_user"), ("community", "grant_access"),
             ("email", "add_tag")]


@dataclass(frozen=True)
class Slice:
    start: int  # first customer number
    customers: int
    events_per_customer: int
    jobs_per_customer: int
    dead: int  # dead jobs in this slice, one per customer, newest of its system


def copy_rows(model: type[Model], columns: list[str], rows: Iterable[tuple]) -> int:
    """COPY rows into the model's table; ``columns`` are attnames (``customer_id``)."""
    table = model._meta.db_table
    written = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
    return written


def next_id(model: type[Model]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {model._meta.db_table}")
        return cursor.fetchone()[0]


def reset_sequences(models: list[type[Model]]) -> None:
    with connection.cursor() as cursor:
        for model in models:
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")


def _weighted(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def fill(s: Slice, *, seed: int = 9) -> dict[str, int]:
    """Write one slice; returns rows written per table. Ids are explicit so relations need no lookups."""
    from billing.models import Dispute, Invoice, StripeEvent, Subscription
    from customers.models import Customer, CustomerStatusChange, ExternalLink
    from sync.models import SyncJob

    rng = random.Random(seed + s.start)
    now = timezone.now()
    first = {m: next_id(m) for m in (Customer, ExternalLink, StripeEvent, SyncJob, Subscription, Invoice,
                                     CustomerStatusChange, Dispute)}
    people = [_person(rng, s.start + i, first[Customer] + i, now, STATUSES[i][0] if i < len(STATUSES) else "")
              for i in range(s.customers)]
    with transaction.atomic():  # a slice that fails part-way leaves no rows behind and the sequences untouched
        counts = _copy_slice(rng, people, first, s, now)
        reset_sequences(list(first))
    with connection.cursor() as cursor:
        for model in first:
            # What autovacuum gives a table of this age: statistics, and a visibility map for index-only scans.
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
    return counts


def _copy_slice(rng: random.Random, people: list[dict], first: dict, s: Slice, now: datetime) -> dict[str, int]:
    from billing.models import Dispute, Invoice, StripeEvent, Subscription
    from customers.models import Customer, CustomerStatusChange, ExternalLink
    from sync.models import SyncJob

    return {
        "customers": copy_rows(Customer, CUSTOMER_COLUMNS, (p["row"] for p in people)),
        "links": copy_rows(ExternalLink, LINK_COLUMNS, _links(people, first[ExternalLink], now)),
        "subscriptions": copy_rows(Subscription, SUB_COLUMNS, _subscriptions(people, first[Subscription], now)),
        "invoices": copy_rows(Invoice, INVOICE_COLUMNS, _invoices(people, first[Invoice], now)),
        "status changes": copy_rows(CustomerStatusChange, CHANGE_COLUMNS,
                                    _changes(people, first[CustomerStatusChange], now)),
        "disputes": copy_rows(Dispute, DISPUTE_COLUMNS, _disputes(people[::500], first[Dispute], now)),
        "events": copy_rows(StripeEvent, EVENT_COLUMNS,
                            _events(rng, people, first[StripeEvent], s.events_per_customer, now)),
        "jobs": copy_rows(SyncJob, JOB_COLUMNS,
                          _jobs(rng, people, first[SyncJob], first[StripeEvent], s, now)),
    }


def _person(rng: random.Random, n: int, pk: int, now: datetime, status: str) -> dict:
    """One customer; each slice starts with one of every status (and an override conflict), so every
    kind of queue item exists at both sizes and query counts compare like with like."""
    forced = bool(status)
    status = status or _weighted(rng, STATUSES)
    plan, mrr = rng.choice(PLANS)
    created = now - timedelta(days=2 + rng.random() * 700)
    override = "active" if status == "past_due" and (forced or n % 100 == 0) else ""
    row = (pk, f"sw_bench{n:010d}", f"user{n}@example.com", f"Customer {n}", status, "", plan,
           mrr if status in ("active", "past_due") else 0, "usd",
           "Same email as another Stripe customer" if status == "needs_review" else "",
           override, "Paid by invoice" if override else "", None, None, False, None, None,
           created + timedelta(days=1), created, created + timedelta(days=1),
           json.dumps({"stated": {"email": f"user{n}@example.com", "name": f"Customer {n}"}, "seen": {}}))
    return {"n": n, "pk": pk, "status": status, "plan": plan, "mrr": mrr, "created": created, "row": row}


CUSTOMER_COLUMNS = ["id", "public_id", "email", "name", "status", "status_reason", "plan", "mrr", "currency",
                    "review_reason", "override_status", "override_reason", "override_expires_at",
                    "override_set_by_id", "restricted", "assigned_to_id", "merged_into_id", "last_event_at",
                    "created_at", "updated_at", "identity_evidence"]
LINK_COLUMNS = ["id", "customer_id", "system", "external_id", "provider", "created_at", "updated_at"]
MIRROR_COLUMNS = ["id", "stripe_id", "customer_id", "stripe_customer_id", "livemode", "stripe_created",
                  "last_event_created", "last_event_id", "last_event_rank", "deleted", "data", "created_at",
                  "updated_at"]
SUB_COLUMNS = MIRROR_COLUMNS + ["status", "price_id", "plan_name", "amount", "currency", "interval",
                                "interval_count", "quantity", "current_period_start", "current_period_end",
                                "trial_end", "cancel_at_period_end", "canceled_at", "ended_at"]
INVOICE_COLUMNS = MIRROR_COLUMNS + ["subscription_stripe_id", "status", "number", "amount_due", "amount_paid",
                                    "amount_remaining", "currency", "attempt_count", "billing_reason",
                                    "payment_failed", "next_payment_attempt", "paid_at"]
DISPUTE_COLUMNS = None  # filled from the model below: its fields are read at import of Django
CHANGE_COLUMNS = ["id", "customer_id", "from_status", "to_status", "reason", "source_event_id", "created_at"]
EVENT_COLUMNS = ["id", "stripe_id", "type", "api_version", "livemode", "created", "payload", "received_at",
                 "status", "attempts", "last_error", "error_class", "next_attempt_at", "processed_at",
                 "mode_mismatch", "customer_id", "secret_index", "correlation_id", "stripe_customer_id"]
JOB_COLUMNS = ["id", "customer_id", "system", "action", "payload", "idempotency_key", "status", "attempts",
               "next_attempt_at", "lease_expires_at", "lease_owner", "last_error", "reason_code", "external_id",
               "source_event_id", "rule_version", "enqueued_at", "correlation_id", "assigned_to_id",
               "set_aside_note", "created_at", "updated_at", "finished_at"]


def _mirror(pk: int, stripe_id: str, p: dict, created: datetime) -> tuple:
    return (pk, stripe_id, p["pk"], f"cus_bench{p['n']:08d}", False, created, created, "", 0, False, "{}",
            created, created)


def _links(people: list[dict], pk: int, now: datetime) -> Iterator[tuple]:
    for p in people:
        yield (pk, p["pk"], "stripe", f"cus_bench{p['n']:08d}", "", p["created"], p["created"])
        pk += 1
        if p["n"] % 2 == 0:
            yield (pk, p["pk"], "crm", f"{900000000 + p['n']}", "hubspot", p["created"], p["created"])
            pk += 1


def _subscriptions(people: list[dict], pk: int, now: datetime) -> Iterator[tuple]:
    stripe_status = {"active": "active", "trial": "trialing", "past_due": "past_due", "canceled": "canceled",
                     "needs_review": "active"}
    for i, p in enumerate(people):
        c = p["created"]
        yield _mirror(pk + i, f"sub_bench{p['n']:08d}", p, c) + (
            stripe_status[p["status"]], f"price_{p['plan'].lower()}", p["plan"], p["mrr"], "usd", "month", 1, 1,
            now - timedelta(days=10), now + timedelta(days=20), None, False,
            c + timedelta(days=300) if p["status"] == "canceled" else None, None)


def _invoices(people: list[dict], pk: int, now: datetime) -> Iterator[tuple]:
    for i, p in enumerate(people):
        failed = p["status"] == "past_due"
        c = now - timedelta(days=10)
        yield _mirror(pk + i, f"in_bench{p['n']:08d}", p, c) + (
            f"sub_bench{p['n']:08d}", "open" if failed else "paid", f"BENCH-{p['n']:08d}", p["mrr"],
            0 if failed else p["mrr"], p["mrr"] if failed else 0, "usd", 2 if failed else 1, "subscription_cycle",
            failed, now + timedelta(days=3) if failed else None, None if failed else c)


def _changes(people: list[dict], pk: int, now: datetime) -> Iterator[tuple]:
    for i, p in enumerate(people):
        yield (pk + i, p["pk"], "trial", p["status"], "from the subscription", None, p["created"] + timedelta(days=1))


def _disputes(people: list[dict], pk: int, now: datetime) -> Iterator[tuple]:
    for i, p in enumerate(people):
        values = {"id": pk + i, "stripe_id": f"dp_bench{p['n']:08d}", "customer_id": p["pk"],
                  "stripe_customer_id": f"cus_bench{p['n']:08d}", "status": "needs_response", "amount": p["mrr"],
                  "currency": "usd", "reason": "fraudulent", "stripe_created": now - timedelta(days=1),
                  "created_at": now, "updated_at": now, "data": "{}"}
        yield tuple(values.get(c, DISPUTE_DEFAULTS.get(c)) for c in DISPUTE_COLUMNS)


def _events(rng: random.Random, people: list[dict], pk: int, per: int, now: datetime) -> Iterator[tuple]:
    for p in people:
        for k in range(per):
            etype = EVENT_TYPES[(p["n"] + k) % len(EVENT_TYPES)]
            stripe_id = f"evt_bench{p['n']:08d}{k:03d}"
            at = p["created"] + timedelta(seconds=(now - p["created"]).total_seconds() * (k + 1) / (per + 1))
            failed = k == 0 and p["n"] % 400 == 0
            payload = json.dumps({"id": stripe_id, "object": "event", "type": etype, "livemode": False,
                                  "data": {"object": {"id": f"obj_{p['n']}_{k}", "customer": f"cus_bench{p['n']:08d}"}}})
            yield (pk, stripe_id, etype, "2020-08-27", False, at, payload, at, "failed" if failed else "processed",
                   1, "ValueError while applying the event" if failed else "", "ValueError" if failed else "",
                   None, None if failed else at, False, p["pk"], 0, "", f"cus_bench{p['n']:08d}")
            pk += 1


def _jobs(rng: random.Random, people: list[dict], pk: int, first_event: int, s: Slice, now: datetime
          ) -> Iterator[tuple]:
    """Succeeded jobs spread over each customer's life; the dead ones are the newest of their system,
    so a retry has nothing that supersedes it."""
    for i, p in enumerate(people):
        event_pk = first_event + i * s.events_per_customer if s.events_per_customer else None
        for k in range(s.jobs_per_customer):
            dead = k == 0 and i < s.dead
            system, action = JOB_KINDS[(p["n"] + k) % len(JOB_KINDS)]
            payload = json.dumps({"event_type": "customer.subscription.updated", "status": p["status"],
                                  "plan": p["plan"], "mrr": p["mrr"], "currency": "usd",
                                  **({"tag": "customer"} if action == "add_tag" else {}),
                                  **({"spaces": []} if action == "grant_access" else {})})
            created = now - timedelta(minutes=5 + rng.random() * 55) if dead else (
                p["created"] + timedelta(days=1 + k))
            yield (pk, p["pk"], system, action, payload, f"bench:{p['n']}:{k}", "dead" if dead else "succeeded",
                   8 if dead else 1, created, None, "", "unavailable: answered 503" if dead else "",
                   "unavailable" if dead else "", "" if dead else f"x{p['n']}", event_pk, None, None, "", None, "",
                   created, created, created + timedelta(seconds=2))
            pk += 1


def _dispute_columns() -> tuple[list[str], dict]:
    from billing.models import Dispute

    columns, defaults = [], {}
    for f in Dispute._meta.concrete_fields:
        columns.append(f.attname)
        if f.has_default() and not callable(f.default):
            defaults[f.attname] = f.default
        elif f.null:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""
    return columns, defaults


def prepare() -> None:
    """Read the Dispute model's columns (it has more fields than the queue needs) once Django is set up."""
    global DISPUTE_COLUMNS, DISPUTE_DEFAULTS
    DISPUTE_COLUMNS, DISPUTE_DEFAULTS = _dispute_columns()


DISPUTE_DEFAULTS: dict = {}
