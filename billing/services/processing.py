"""Applying one stored Stripe event: mirrors, identity, status, then the registered consumers, in one transaction."""

import copy
import time
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import DataError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from audit.context import bind_correlation_id, new_correlation_id
from audit.services import audit_record
from billing import metrics
from billing import parsing as p
from billing.consumers import BillingChange, billing_change_dispatch
from billing.errors import BillingError
from billing.models import EventStatus, Invoice, Refund, StripeEvent
from billing.ordering import event_place
from billing.services import mirrors as m
from billing.services.refunds import refund_settle
from core.backoff import backoff_seconds
from core.batch import batch_defer, batch_flush_due, batch_scope
from customers.identity import Identity, customer_for_stripe_id, customer_identity_refresh
from customers.status import customer_state_refresh

log = structlog.get_logger(__name__)


# event type -> (kind of object in data.object, is it a deletion)
HANDLED: dict[str, tuple[str, bool]] = {
    "checkout.session.completed": ("checkout_session", False),
    "customer.created": ("customer", False),
    "customer.updated": ("customer", False),
    "customer.deleted": ("customer", True),
    "customer.subscription.created": ("subscription", False),
    "customer.subscription.updated": ("subscription", False),
    "customer.subscription.trial_will_end": ("subscription", False),
    "customer.subscription.paused": ("subscription", False),
    "customer.subscription.resumed": ("subscription", False),
    "customer.subscription.deleted": ("subscription", True),
    "invoice.paid": ("invoice", False),
    "invoice.payment_succeeded": ("invoice", False),
    "invoice.payment_failed": ("invoice", False),
    "payment_intent.succeeded": ("payment_intent", False),
    "payment_intent.payment_failed": ("payment_intent", False),
    "charge.succeeded": ("charge", False),
    "charge.failed": ("charge", False),
    "charge.refunded": ("charge", False),
    "charge.refund.updated": ("refund", False),
    "refund.created": ("refund", False),
    "refund.updated": ("refund", False),
    "refund.failed": ("refund", False),
    "charge.dispute.created": ("dispute", False),
    "charge.dispute.updated": ("dispute", False),
    "charge.dispute.closed": ("dispute", False),
}


def _resolve_customer(kind: str, obj: dict) -> tuple[str, object]:
    """The Stripe customer id and canonical customer (locked) of an object; refunds and disputes go through their charge."""
    stripe_customer_id = p.customer_id(obj)
    customer = None
    if not stripe_customer_id and kind in ("refund", "dispute"):
        stripe_customer_id, customer = m.customer_of_charge(p.object_id(obj.get("charge")))
    if stripe_customer_id:
        customer = customer_for_stripe_id(
            stripe_customer_id=stripe_customer_id, email=p.customer_email(obj), name=p.customer_name(obj)
        )
    return stripe_customer_id, customer


def _apply(event: StripeEvent, kind: str, deleting: bool, obj: dict, stripe_customer_id: str, customer) -> None:
    if kind == "checkout_session":
        return  # identity only: the subscription and payment arrive as their own events
    owner = {"customer": customer, "stripe_customer_id": stripe_customer_id}
    if kind == "invoice":
        m.mirror_apply(Invoice, obj=obj, event=event, fields=m.invoice_fields(obj, event.type), **owner)
        return
    model, fields = m.MIRRORS[kind]
    row, applied = m.mirror_apply(model, obj=obj, event=event, fields=fields(obj), deleting=deleting, **owner)
    if kind == "refund":
        refund_settle(refund=row)  # a refund we requested: Stripe's word moves our request on
    if kind == "charge":
        # Each embedded refund has its own history: applied on its own terms even when the charge is stale.
        for refund in m.embedded_refunds(obj):
            refund_row, _ = m.mirror_apply(Refund, obj=refund, event=event, fields=m.refund_fields(refund), **owner)
            refund_settle(refund=refund_row)
        if applied:
            m.adopt_orphans(row)


def _apply_event(event: StripeEvent) -> str:
    """Everything one event changes, inside the caller's transaction. Returns the final status."""
    if event.type not in HANDLED:
        return EventStatus.IGNORED
    kind, deleting = HANDLED[event.type]
    obj = event.payload["data"]["object"]
    stripe_customer_id, customer = _resolve_customer(kind, obj)
    stored = copy.copy(customer)  # the row as locked: its audit entry is diffed against it, not read again
    new_event = event.processed_at is None and event.attempts == 0  # before its outcome is recorded
    _apply(event, kind, deleting, obj, stripe_customer_id, customer)
    if customer is not None:
        event.customer = customer
        _record_outcome(event, EventStatus.PROCESSED, also=("customer",))
        identity = customer_identity_refresh(
            customer=customer,
            # Stripe's customer object changes only with its own events: read it again only then.
            stated=m.stated_identity(customer) if kind == "customer" else None,
            seen=Identity(email=p.customer_email(obj), name=p.customer_name(obj)),
            seen_as_of=m.event_order_key(event),
        )
        first = customer.last_event_at is None
        customer.last_event_at = max(filter(None, [customer.last_event_at, event.created]))
        before, after = customer_state_refresh(
            customer=customer, source_event=event, also_save=(*identity, "last_event_at"), stored=stored,
        )
        billing_change_dispatch(change=BillingChange(
            customer=customer, source_event=event, event_type=event.type, before=before, after=after, first=first,
            new_event=new_event,
        ))
    return EventStatus.PROCESSED


# Failures that come from the payload itself: the same event fails the same way on every try,
# so it fails once, with its reason, and waits for a person (replay, once the cause is fixed).
# Anything else (a lock, a lost connection, a race on a unique key) is retried with backoff.
PERMANENT_ERRORS: dict[type[Exception], str] = {
    DataError: "a value does not fit its database column (too long or out of range)",
    OverflowError: "a number is too large to store",
    RecursionError: "the payload is nested too deeply",
    # EventShapeError is a ValueError; its own message is the reason.
    ValueError: "a value has a type or format Switchboard cannot read",
    TypeError: "a field has a type Switchboard cannot read",
    LookupError: "a field Switchboard needs is missing",
    AttributeError: "a field has a shape Switchboard cannot read",
}
NOT_RETRIED = "Not retried: this payload fails the same way every time; replay it once the cause is fixed."


def _permanent_reason(exc: Exception) -> str:
    """Why ``exc`` can never succeed on a retry, or "" when a retry may help."""
    return next((reason for kind, reason in PERMANENT_ERRORS.items() if isinstance(exc, kind)), "")


def _error_text(exc: Exception, permanent: str) -> str:
    # Only our own payload-shape errors carry a message we wrote; anything else may quote
    # personal data (database errors echo values), so keep just its class and our sentence.
    if isinstance(exc, (p.EventShapeError, BillingError)):
        text = f"{type(exc).__name__}: {exc}"
    elif permanent:
        text = f"{type(exc).__name__}: {permanent}"
    else:
        return f"{type(exc).__name__} while applying the event"
    return (f"{text[:300]}. {NOT_RETRIED}" if permanent else text)[:500]


HELD = "held"  # not applied yet: an earlier event of the same customer is still waiting


def event_process(*, event_id: int, keep_order: bool = True) -> str:
    """Apply one stored event exactly once. Safe to call repeatedly and concurrently.

    With ``keep_order``, an event whose customer has an earlier event (in Stripe's order) still
    waiting is held back instead: it stays received, marked held, and whoever applies (or fails)
    that earlier event applies it next (``_apply_held``); the sweeper is the safety net."""
    with batch_scope():  # alone, a batch of one: its consumers read the rules once, as in a batch
        return _event_process(event_id, keep_order)


def _event_process(event_id: int, keep_order: bool) -> str:
    clock = time.monotonic()
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().annotate(others_waiting=_OTHERS_WAITING).get(pk=event_id)
            if event.status in (EventStatus.PROCESSED, EventStatus.IGNORED):
                return event.status
            if keep_order and _earlier_waiting(event):
                _hold(event)
                return HELD
            bind_correlation_id(event.correlation_id or new_correlation_id())
            status = _apply_event(event)
            if event.status != status:  # not yet written by _apply_event
                _record_outcome(event, status)
    except StripeEvent.DoesNotExist:
        return "missing"
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the event and retried
        status = _event_failed(event_id, exc)
        _observe(status, clock)
        return status
    _observe(status, clock, received_at=event.received_at)
    _apply_held(event.stripe_customer_id)
    return status


# Whether any other event of the same Stripe customer, not created after this one, is still waiting:
# read with the event's own locking read, in the same statement. Nearly always there is none, and
# then no event can be earlier in Stripe's order (it orders by ``created`` first): no further read.
_OTHERS_WAITING = Exists(StripeEvent.objects.filter(
    stripe_customer_id=OuterRef("stripe_customer_id"), status=EventStatus.RECEIVED, created__lte=OuterRef("created"),
).exclude(pk=OuterRef("pk")))


def _earlier_waiting(event: StripeEvent) -> bool:
    """Whether another event of the same Stripe customer, earlier in Stripe's order, is still waiting."""
    if not event.stripe_customer_id or event.type not in HANDLED:
        return False
    if not getattr(event, "others_waiting", True):  # read with the event's lock: none could be earlier
        return False
    mine = event_place(created=event.created, event_type=event.type, event_id=event.stripe_id)
    # Usually none wait: the types that are never applied are passed over here, not named in the read.
    waiting = (StripeEvent.objects.filter(stripe_customer_id=event.stripe_customer_id, status=EventStatus.RECEIVED)
               .exclude(pk=event.pk).values_list("created", "type", "stripe_id"))
    return any(event_place(created=c, event_type=t, event_id=i) < mine for c, t, i in waiting if t in HANDLED)


def _hold(event: StripeEvent) -> None:
    """Marked held (``next_attempt_at``: when the sweeper may wake it if no release comes) and in flight."""
    now = timezone.now()
    event.woken_at, event.next_attempt_at = now, now + timedelta(seconds=settings.STRIPE_EVENT_SWEEP_GRACE_SECONDS)
    event.save(update_fields=["woken_at", "next_attempt_at"])
    log.info("stripe_event.held", event_id=event.stripe_id, type=event.type)


def _apply_held(stripe_customer_id: str) -> None:
    """Apply the customer's held events, in Stripe's order, once the event they waited for is settled.

    Runs after that event's commit, so no hold can slip past it: an event that read the earlier one as
    still waiting keeps its own row locked until its hold is committed, and the locking read here takes
    every waiting row of the customer, so it waits for that commit and then reads the row as it became
    (a read filtered on the hold mark would pass over the row as it was). Rows are locked in id order,
    so two of these never wait on each other; SQLite runs one writer at a time.

    In a batch the customers are gathered and looked at together with the batch's wake-ups (when
    the batch ends, or sooner once they have waited ``WAKE_WITHIN_SECONDS``): one read for all of
    them. A later event of the customer applied meanwhile in the batch finds the held one waiting
    and is held behind it, so the order stays Stripe's."""
    if not stripe_customer_id:
        return
    if not batch_defer(("billing.apply_held",), [stripe_customer_id], _customers_apply_held):
        _customers_apply_held([stripe_customer_id])


def _customers_apply_held(stripe_customer_ids: list[str]) -> None:
    # Every event that can be held is still received (a hold marks it, nothing else): a customer with
    # none has nothing to release, and a plain read on an index says so for all of them at once.
    waiting = set(StripeEvent.objects.filter(stripe_customer_id__in=set(stripe_customer_ids),
                                             status=EventStatus.RECEIVED)
                  .values_list("stripe_customer_id", flat=True).distinct())
    for stripe_customer_id in dict.fromkeys(stripe_customer_ids):  # once each, in the order they settled
        if stripe_customer_id in waiting:
            _release_held(stripe_customer_id)


def _release_held(stripe_customer_id: str) -> None:
    with transaction.atomic():
        waiting = StripeEvent.objects.select_for_update().filter(
            stripe_customer_id=stripe_customer_id, status=EventStatus.RECEIVED).order_by("pk")
        held = [pk for pk, mark in waiting.values_list("pk", "next_attempt_at") if mark is not None]
        StripeEvent.objects.filter(pk__in=held).update(next_attempt_at=None, woken_at=timezone.now())
    if held:
        events_process(event_ids=held)


def _observe(status: str, clock: float, received_at=None) -> None:
    """Counted once the outcome is committed (a rolled-back attempt is counted as failed)."""
    metrics.events_processed.labels(status).inc()
    metrics.event_processing_seconds.observe(time.monotonic() - clock)
    if received_at is not None:
        metrics.event_delay_seconds.observe(max((timezone.now() - received_at).total_seconds(), 0.0))


_OUTCOME_FIELDS = ("status", "attempts", "processed_at", "last_error", "error_class", "next_attempt_at")


def _record_outcome(event: StripeEvent, status: str, also: tuple[str, ...] = ()) -> None:
    """Only the fields that change: a full save would write the (large) payload again."""
    event.status = status
    event.attempts += 1
    event.processed_at = timezone.now()
    event.last_error = event.error_class = ""
    event.next_attempt_at = None
    event.save(update_fields=[*_OUTCOME_FIELDS, *also])


def _event_failed(event_id: int, exc: Exception) -> str:
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_id)
        event.attempts += 1
        event.status = EventStatus.FAILED
        event.error_class = type(exc).__name__[:100]
        permanent = _permanent_reason(exc)
        event.last_error = _error_text(exc, permanent)
        exhausted = bool(permanent) or event.attempts >= settings.STRIPE_EVENT_MAX_ATTEMPTS
        event.next_attempt_at = None if exhausted else timezone.now() + timedelta(seconds=backoff_seconds(
            attempt=event.attempts, base=settings.STRIPE_EVENT_RETRY_BASE_SECONDS,
            cap=settings.STRIPE_EVENT_RETRY_MAX_SECONDS,
        ))
        event.save(update_fields=["attempts", "status", "error_class", "last_error", "next_attempt_at"])
    log.warning(
        "stripe_event.failed", event_id=event.stripe_id, type=event.type, error=event.error_class, attempts=event.attempts,
        retry=event.next_attempt_at is not None,
    )
    _apply_held(event.stripe_customer_id)  # a failing event waits for its retry; the customer's later ones do not
    return EventStatus.FAILED


def event_replay(*, event: StripeEvent, actor=None, source: str) -> str:
    """Apply a stored event again. Mirrors skip what they already hold and jobs are keyed by event,
    so replaying changes nothing that is already right."""
    with transaction.atomic():
        locked = StripeEvent.objects.select_for_update().get(pk=event.pk)
        if locked.mode_mismatch:
            raise BillingError("This event belongs to the other Stripe mode (live/test) and is never applied.")
        previous = locked.status
        locked.status = EventStatus.RECEIVED
        locked.save(update_fields=["status"])
        audit_record(
            action="event.replayed",
            source=source,
            actor=actor,
            customer=locked.customer,
            target=locked,
            summary=f"Replayed {locked.type} {locked.stripe_id}",
            changes={"status": [previous, EventStatus.RECEIVED]},
        )
    return event_process(event_id=event.pk, keep_order=False)  # a person asked for this one, now


def events_due(now=None) -> list[int]:
    """Events that need a wake-up: still received after a grace period, or due for a retry, and
    without one sent in the last grace period (a wake-up in flight is not sent again)."""
    now = now or timezone.now()
    lease = now - timedelta(seconds=settings.STRIPE_EVENT_SWEEP_GRACE_SECONDS)
    not_in_flight = Q(woken_at__isnull=True) | Q(woken_at__lt=lease)
    stuck = StripeEvent.objects.filter(not_in_flight, status=EventStatus.RECEIVED, received_at__lt=lease)
    # A retry that came due after its last wake-up needs a new one.
    due = StripeEvent.objects.filter(not_in_flight | Q(woken_at__lt=F("next_attempt_at")),
                                     status=EventStatus.FAILED, next_attempt_at__lte=now)
    ids = list(stuck.values_list("pk", flat=True)[:500]) + list(due.values_list("pk", flat=True)[:500])
    return sorted(set(ids))


def events_mark_woken(*, event_ids: list[int], now=None) -> None:
    """Record that a wake-up is being published for these events (before it is, so a fast worker
    never sees a stale mark)."""
    StripeEvent.objects.filter(pk__in=event_ids).update(woken_at=now or timezone.now())


def events_process(*, event_ids: list[int]) -> list[str]:
    """Apply several stored events (of any customers), each in its own transaction as
    ``event_process`` does, in Stripe's order (billing/ordering.py): a customer's events in one batch
    are applied the way they happened, and one event's failure stays its own."""
    places = StripeEvent.objects.filter(pk__in=event_ids).values_list("pk", "created", "type", "stripe_id")
    ordered = sorted(places, key=lambda row: (event_place(created=row[1], event_type=row[2], event_id=row[3]), row[0]))
    outcomes = []
    # One scope for the batch: the rules are read once, and the jobs the events write are woken
    # together (per system) once the batch ends or its first wake-up has waited long enough.
    with batch_scope():
        for pk, *_ in ordered:
            outcomes.append(event_process(event_id=pk))
            batch_flush_due()
    return outcomes


def events_claim_new(*, limit: int, now=None) -> list[int]:
    """Stored events nobody has woken a worker for yet, marked woken as they are taken: two
    watchers never take the same event, and the sweeper leaves them to their wake-up."""
    new = StripeEvent.objects.filter(status=EventStatus.RECEIVED, woken_at__isnull=True)
    if not new.exists():  # the idle case, several times a second: a read on an index, no lock
        return []
    with transaction.atomic():
        # SKIP LOCKED on PostgreSQL; on SQLite the IMMEDIATE transaction holds every other writer off.
        claimed = list(
            StripeEvent.objects.select_for_update(skip_locked=True)
            .filter(status=EventStatus.RECEIVED, woken_at__isnull=True)
            .order_by("pk").values_list("pk", flat=True)[:limit]
        )
        if claimed:
            StripeEvent.objects.filter(pk__in=claimed).update(woken_at=now or timezone.now())
    return claimed

