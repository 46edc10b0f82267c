"""Rows in the shapes the screens read, and what the screens' tests measure: the queries a page reads
and the plans PostgreSQL makes for them."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Dispute, EventStatus, Invoice, StripeEvent, Subscription
from customers.models import Customer, CustomerStatus, ExternalLink, System
from support.models import Ticket
from sync.models import JobStatus, ReasonCode, SyncAttempt, SyncJob

_n = iter(range(1, 10**9))


def customer(**fields) -> Customer:
    n = next(_n)
    defaults = dict(email=f"person{n}@example.com", name=f"Person {n}", status=CustomerStatus.ACTIVE, plan="Pro",
                    mrr=4900, currency="usd")
    c = Customer.objects.create(**{**defaults, **fields})
    ExternalLink.objects.create(customer=c, system=System.STRIPE, external_id=f"cus_screens{n:06d}")
    return c


def dead_job(c: Customer | None = None, *, system: str = System.CRM, error: str = "401 Unauthorized") -> SyncJob:
    n = next(_n)
    return SyncJob.objects.create(
        customer=c or customer(), system=system, action="upsert_contact", idempotency_key=f"screens:{n}",
        status=JobStatus.DEAD, attempts=5, reason_code=ReasonCode.AUTH_FAILED, last_error=error,
        finished_at=timezone.now(), payload={"status": "active"},
    )


def attempt(job: SyncJob, **fields) -> SyncAttempt:
    defaults = dict(number=1, started_at=timezone.now(), duration_ms=120, outcome="permanent", status_code=401,
                    error_class="AuthFailed", message="token rejected")
    return SyncAttempt.objects.create(job=job, **{**defaults, **fields})


def failed_event(c: Customer | None = None, **fields) -> StripeEvent:
    n = next(_n)
    defaults = dict(
        stripe_id=f"evt_screens{n:08d}", type="invoice.payment_failed", created=timezone.now(),
        payload={"id": f"evt_screens{n:08d}", "type": "invoice.payment_failed",
                 "data": {"object": {"id": f"in_{n}", "customer_email": "ada@example.com", "customer_name": "Ada"}}},
        status=EventStatus.FAILED, last_error="ValueError: no customer", attempts=1, customer=c,
    )
    return StripeEvent.objects.create(**{**defaults, **fields})


def billing_rows(c: Customer) -> None:
    n = next(_n)
    Subscription.objects.create(stripe_id=f"sub_s{n}", customer=c, status="past_due", plan_name="Pro", amount=4900,
                                currency="usd", interval="month", stripe_created=timezone.now() - timedelta(days=30))
    Invoice.objects.create(stripe_id=f"in_s{n}", customer=c, status="open", amount_due=4900, currency="usd",
                           payment_failed=True, attempt_count=2, stripe_created=timezone.now())
    Dispute.objects.create(stripe_id=f"dp_s{n}", customer=c, status="needs_response", amount=4900, currency="usd",
                           reason="fraudulent", stripe_created=timezone.now())
    Ticket.objects.create(customer=c, subject="Card declined", idempotency_key=f"t:{n}", source="billing")


# --- a page's queries ----------------------------------------------------------------------


def fill(n: int) -> None:
    """``n`` customers with a row of every kind the main pages list."""
    for i in range(n):
        c = customer(status=CustomerStatus.NEEDS_REVIEW if i % 5 == 0 else CustomerStatus.PAST_DUE,
                     review_reason="Same email" if i % 5 == 0 else "")
        billing_rows(c)
        job = dead_job(c, system=[System.CRM, System.EMAIL, System.SUPPORT][i % 3])
        attempt(job)
        failed_event(c)


def count_queries(client, url: str, **headers) -> int:
    client.get(url, **headers)  # warm per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(queries)


# --- PostgreSQL: the plans -----------------------------------------------------------------


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # Undone when the test's transaction rolls back. Without sorts, a LIMIT of the newest rows
        # is answered only by an index in that order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def queries_of(run, *needles: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        run()
    found = [q["sql"] for q in captured.captured_queries if all(n in q["sql"] for n in needles)]
    assert found, f"no query containing {needles!r}"
    return found


def assert_every_plan_uses(queries: list[str], index: str) -> None:
    for sql in queries:
        result = plan(sql)
        assert index in result, f"{index} not used by:\n{sql}\n{result}"


def assert_queries_flat(client, url: str) -> None:
    """The page at ``url`` makes as many queries with 50 rows of everything as with 5."""
    fill(5)
    small = count_queries(client, url)
    fill(45)
    large = count_queries(client, url)
    assert large == small, f"{url}: {small} queries with 5 rows, {large} with 50"
