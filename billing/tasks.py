"""Thin tasks: load by id, call billing's service; the rows carry the state."""

import structlog
from celery import shared_task
from django.conf import settings

from audit.models import Source
from billing.models import StripeEvent
from billing.services.processing import event_process, events_due, events_mark_woken
from billing.services.reconcile import stripe_reconcile
from billing.services.refunds import refunds_resend_unconfirmed
from core.outages import BROKER, BROKER_ERRORS

log = structlog.get_logger(__name__)


@shared_task(name="billing.process_event")
def process_event(event_id: int) -> str:
    return event_process(event_id=event_id)


@shared_task(name="billing.sweep_events")
def sweep_events() -> int:
    """Re-send events whose wake-up was lost or whose retry is due: the database is the record.
    An event whose last wake-up is younger than the grace period is left to it."""
    due = events_due()
    if not due or BROKER.down:
        return 0
    events_mark_woken(event_ids=due)
    sent = 0
    try:
        with process_event.app.producer_or_acquire() as producer:  # one connection for the batch
            for event_id in due:
                process_event.apply_async(args=[event_id], producer=producer)
                sent += 1
    except BROKER_ERRORS as exc:  # the rows are the record: the next sweep tries again
        BROKER.failed(exc)
        log.warning("stripe_event.sweep_enqueue_failed", sent=sent, error=type(exc).__name__)
        StripeEvent.objects.filter(pk__in=due[sent:]).update(woken_at=None)
    else:
        BROKER.answered()
    return sent


@shared_task(name="billing.resend_unconfirmed_refunds")
def resend_unconfirmed_refunds() -> int:
    """Refunds whose Stripe answer never arrived are asked about again, with the same idempotency key."""
    return refunds_resend_unconfirmed()


def enqueue_event(event_id: int) -> None:
    """Wake a worker for a stored event. If the broker is down the sweeper sends it later."""
    if BROKER.down:  # known down a moment ago: don't make the door wait for it again
        return
    try:
        process_event.delay(event_id)
    except BROKER_ERRORS as exc:  # the stored row is the record; never fail the caller
        BROKER.failed(exc)
        log.warning("stripe_event.enqueue_failed", event_pk=event_id, error=type(exc).__name__)
    else:
        BROKER.answered()


@shared_task(name="billing.reconcile_stripe")
def reconcile_stripe() -> int:
    """The daily comparison with Stripe: reports drift (an incident and queue items), repairs nothing."""
    if not settings.STRIPE_API_KEY:
        return 0
    return len(stripe_reconcile(apply=False, source=Source.WORKER).drift)
