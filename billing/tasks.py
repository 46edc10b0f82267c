"""Thin tasks: load by id, call billing's service; the rows carry the state.

New events need no message from the door: every worker that consumes the events queue runs a
watcher thread that claims new rows a few times a second and sends them in batches
(``events_wake_new``). While every process of its worker is applying a batch it leaves them in the
database, so that a busy worker's next batch is whatever arrived meanwhile: the batches grow with
the load (each batch's fixed cost is spread over more events) and stay small, quick ones when the
load is light. The sweeper (beat, or the watchdog standing in) stays the safety net for a wake-up
that was lost on the way.
"""

import threading
from collections.abc import Callable

import structlog
from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from celery.worker import state as worker_state
from django.conf import settings
from django.db import connection

from audit.models import Source
from billing.models import StripeEvent
from billing.services.processing import (
    event_process,
    events_claim_new,
    events_due,
    events_mark_woken,
    events_process,
)
from billing.services.reconcile import stripe_reconcile
from billing.services.refunds import refunds_resend_unconfirmed
from billing.services.subscriptions import subscription_changes_resend_unanswered
from core.outages import BROKER, BROKER_ERRORS

log = structlog.get_logger(__name__)


@shared_task(name="billing.process_event")
def process_event(event_ids: int | list[int]) -> str | list[str]:
    """One stored event (the sweeper's wake-up) or a batch of them (the watcher's)."""
    if isinstance(event_ids, int):
        return event_process(event_id=event_ids)
    return events_process(event_ids=event_ids)


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


@shared_task(name="billing.resend_subscription_changes")
def resend_unanswered_subscription_changes() -> int:
    """Subscription changes whose Stripe answer never arrived are sent again under the same key."""
    return subscription_changes_resend_unanswered()


def event_stored(event_id: int) -> None:
    """After the door's commit. Workers find the new row themselves; but where tasks run in the
    caller (tests, one-off scripts with CELERY_TASK_ALWAYS_EAGER) no worker watches, so it runs here."""
    if process_event.app.conf.task_always_eager:
        process_event.delay(event_id)


def events_wake_new() -> int:
    """Claim the events stored since the last look and send them to the events workers, a batch per
    message (each event in one message only). Returns how many were sent."""
    if BROKER.down:  # the rows wait for the broker; claiming them now would only delay them
        return 0
    size = settings.STRIPE_EVENT_BATCH_SIZE
    claimed = events_claim_new(limit=size * 10)
    sent = 0
    try:
        with process_event.app.producer_or_acquire() as producer:
            for start in range(0, len(claimed), size):
                batch = claimed[start:start + size]
                process_event.apply_async(args=[batch], producer=producer)
                sent += len(batch)
    except BROKER_ERRORS as exc:  # unclaimed again: the next look (or the sweeper) sends them
        BROKER.failed(exc)
        log.warning("stripe_event.wake_failed", sent=sent, error=type(exc).__name__)
        StripeEvent.objects.filter(pk__in=claimed[sent:]).update(woken_at=None)
    else:
        if claimed:
            BROKER.answered()
    return sent


def pool_busy(processes: int) -> bool:
    """Whether every one of this worker's ``processes`` is running a task (Celery's own count of the
    tasks its pool has taken, kept in the worker's main process, where the watcher runs)."""
    return len(worker_state.active_requests) >= processes


class EventWatcher:
    """The thread that calls ``events_wake_new`` every STRIPE_EVENT_WATCH_SECONDS in a worker,
    skipping the looks that fall while ``busy()`` says no process of the worker could start a batch."""

    def __init__(self, interval: float, busy: Callable[[], bool] = lambda: False) -> None:
        self.interval = interval
        self.busy = busy
        self.looks_skipped = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="switchboard-event-watcher", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stopping.wait(self.interval):
                if self.busy():  # the new rows wait, and join the next batch this worker starts
                    self.looks_skipped += 1
                    continue
                try:
                    events_wake_new()
                except Exception as exc:  # noqa: BLE001 - e.g. the database is down: look again next time
                    log.error("stripe_event.watch_failed", error=type(exc).__name__)
                    # A new connection next time. Not replaced on every look (as around a task): that
                    # would add a health check query to each of several looks a second.
                    connection.close()
        finally:
            connection.close()  # this thread's own connection

    def stop(self, timeout: float = 5) -> None:
        self.stopping.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)


_watcher: EventWatcher | None = None


@worker_ready.connect
def _start_watcher(sender=None, **kwargs) -> None:
    """Only in a worker that takes the events queue: it is the one the batches go to."""
    global _watcher
    app = process_event.app
    events_queue = app.amqp.router.route({}, process_event.name)["queue"].name
    consumed = {q.name for q in sender.task_consumer.queues} if getattr(sender, "task_consumer", None) else set()
    if events_queue not in consumed or _watcher is not None:
        return
    processes = getattr(getattr(sender, "pool", None), "limit", None) or 1  # prefork's processes; solo's 1
    _watcher = EventWatcher(settings.STRIPE_EVENT_WATCH_SECONDS, busy=lambda: pool_busy(processes))
    log.info("stripe_event.watcher_started", processes=processes)
    _watcher.thread.start()


@worker_shutdown.connect
def _stop_watcher(**kwargs) -> None:
    global _watcher
    if _watcher is not None:
        _watcher.stop()
        _watcher = None


@shared_task(name="billing.reconcile_stripe")
def reconcile_stripe() -> int:
    """The daily comparison with Stripe: reports drift (an incident and queue items), repairs nothing."""
    if not settings.STRIPE_API_KEY:
        return 0
    return len(stripe_reconcile(apply=False, source=Source.WORKER).drift)
