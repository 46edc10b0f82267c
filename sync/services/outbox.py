"""Writing outbound work (the outbox).

``jobs_for_billing_change`` is registered with billing as a consumer of billing changes
(``SyncConfig.ready``): billing calls it inside the event's transaction, knowing nothing of sync.
"""

import hashlib
import math
from collections import defaultdict
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from audit.context import current_correlation_id
from billing.consumers import BillingChange
from core.batch import batch_defer, batch_read
from core.outages import BROKER, BROKER_ERRORS, CACHE, CACHE_ERRORS
from customers.models import Customer
from sync.models import WAITING_JOB_STATUSES, SyncJob
from sync.providers import provider_for
from sync.ratelimit import holds_slot, rate_reserve
from sync.rules import TICKET_ACTION, planned_work
from sync.services.columns import per_job
from sync.services.rules import mapping_rules_current

log = structlog.get_logger(__name__)
# Jobs one wake-up carries, and one worker claims and runs at once.
JOBS_PER_BATCH = 50
# A system's small wake-up (fewer jobs than a batch) still waiting in the queue is marked for this
# long: a second small one for the system is then not sent, since the waiting one fills its batch
# with the system's due jobs when it starts. A mark whose message was lost expires on its own; the
# sweeper's redelivery covers the jobs that relied on it.
QUEUED_MARK_SECONDS = 10


def idempotency_key(
    *, cause: str, customer: Customer | None, system: str, action: str, suffix: str = "", ticket_id: int | None = None
) -> str:
    """Stable per cause, owner, system and action. A job without a customer is owned by its ticket
    (``ticket_id``): linking the ticket later never changes the key of work already written."""
    if customer is None and ticket_id is None:
        raise ValueError("A job without a customer needs the id of the ticket it is for.")
    owner = customer.public_id if customer is not None else f"ticket-{ticket_id}"
    return fitted_key(f"{cause}:{owner}:{system}:{action}" + (f":{suffix}" if suffix else ""))


def fitted_key(key: str) -> str:
    """``key`` within the column's 200 characters; past that a hash keeps it unique and stable."""
    if len(key) > 200:
        key = key[:150] + ":" + hashlib.sha256(key.encode()).hexdigest()[:40]
    return key


def jobs_for_billing_change(*, change: BillingChange) -> list[SyncJob]:
    """Write the outbound jobs one billing change causes; schedule them after commit.

    The mapping rules decide the jobs. The idempotency key is derived from the
    event, so replaying it adds nothing. Runs inside the caller's transaction.
    """
    customer, source_event = change.customer, change.source_event
    rules = batch_read("sync.mapping_rules", mapping_rules_current)  # once per batch of events
    before = {} if change.first else change.before  # the tools hold nothing of a customer billing never described
    plan = planned_work(rules_by_system={s: r.rules for s, r in rules.items()}, before=before, after=change.after)
    correlation_id, now = current_correlation_id(), timezone.now()
    wanted: dict[str, SyncJob] = {}
    for planned in plan:
        if planned.action == TICKET_ACTION:
            continue  # tickets have one path: support's planner writes our Ticket and its desk job
        key = idempotency_key(
            cause=source_event.stripe_id, customer=customer, system=planned.system,
            action=planned.action, suffix=planned.key_suffix,
        )
        wanted[key] = SyncJob(
            idempotency_key=key,
            customer=customer,
            system=planned.system,
            action=planned.action,
            payload={"event_type": change.event_type, **planned.payload},
            source_event=source_event,
            rule_version=rules[planned.system].version if planned.system in rules else None,
            correlation_id=correlation_id,
            next_attempt_at=now,
            enqueued_at=now,  # the wake-up below is published right after commit
        )
    created = _jobs_insert(wanted, new_event=change.new_event)
    jobs_enqueue_on_commit(job_ids=[j.pk for j in created], marked=True)
    return created


def _jobs_insert(wanted: dict[str, SyncJob], *, new_event: bool = False) -> list[SyncJob]:
    """Insert the jobs whose key is new, in one statement; a replayed event finds its keys taken.
    ``new_event``: the keys are the event's and it was never applied nor failed, so none can be
    taken and they are not read (were one taken after all, the unique key fails this try and the
    retry, no longer new, reads them).

    No django-auditlog entry: bulk_create sends no signals. Writing a job is the machine
    following the mapping rules, not a person acting; the row itself names its cause
    (source event, rule version, correlation id) and every try is kept as a SyncAttempt.
    A person's actions on jobs (retry, assign) keep their explicit audit records.
    The event's row lock (``event_process``) means no other transaction writes these keys
    meanwhile; if one ever did, the unique key fails this transaction and the event is retried.
    """
    if not wanted:
        return []
    taken = set() if new_event else set(
        SyncJob.objects.filter(idempotency_key__in=list(wanted)).values_list("idempotency_key", flat=True)
    )
    return SyncJob.objects.bulk_create([job for key, job in wanted.items() if key not in taken])


def jobs_enqueue_on_commit(*, job_ids: list[int], countdown: float | None = None, marked: bool = False,
                           fill: bool = True) -> None:
    """Wake workers for these jobs once the surrounding transaction has committed.

    ``marked``: the caller already set ``enqueued_at`` inside the transaction.
    """
    if job_ids:
        transaction.on_commit(lambda: _wake(job_ids, countdown, marked, fill), robust=True)


def _wake(job_ids: list[int], countdown: float | None, marked: bool, fill: bool) -> None:
    """Publish now, or, inside a batch scope (a worker applying a batch of events), together with the
    batch's other wake-ups of the same kind: one publish per system instead of one per event and
    system, one slot reservation per tool. A wake-up with a countdown is not delayed further."""
    def publish(ids: list[int]) -> None:
        jobs_enqueue(job_ids=ids, countdown=countdown, marked=marked, fill=fill)

    if countdown or not batch_defer(("sync.jobs_enqueue", marked, fill), job_ids, publish):
        publish(job_ids)


def jobs_enqueue(*, job_ids: list[int], countdown: float | None = None, marked: bool = False,
                 fill: bool = True) -> int:
    """Publish the wake-ups of these jobs: one per system and batch of ``JOBS_PER_BATCH`` (a worker
    claims and runs a batch at once). Return how many jobs were woken. A broker failure is
    logged, never raised: the sweeper repairs it. ``fill``: the worker may fill each batch up with
    the system's other due jobs (not for the sweeper's, which repair the rows they name).

    Jobs due now (no ``countdown``) first reserve their tool's rate-limit slot: one whose slot is
    later is parked until it and woken once, then (by the sweeper when the slot is further off
    than its next run), rather than woken now to find no token.
    """
    if not job_ids:
        return 0
    if BROKER.down:  # known down a moment ago: leave the wake-ups to the sweeper at once
        if marked:
            SyncJob.objects.filter(pk__in=job_ids).update(enqueued_at=None)
        return 0
    systems: dict[int, str] | None = None  # read with the slots when they are reserved
    if countdown:
        groups, parked = {countdown: list(job_ids)}, set()
    else:
        groups, parked, systems = _reserve_slots(list(job_ids))
    unmarked = [pk for ids in groups.values() for pk in ids if pk not in parked]
    if not marked and unmarked:
        # Marked before publishing, so a fast worker's own later changes are not overwritten.
        SyncJob.objects.filter(pk__in=unmarked).update(enqueued_at=timezone.now())
    batches, riding = _coalesced(_batches(groups, systems)) if fill else (_batches(groups, systems), 0)
    sent = _send(batches, fill=fill)
    if sent < len(batches):  # the broker is down: the rows not woken are left to the sweeper
        SyncJob.objects.filter(pk__in=[pk for _, _, ids in batches[sent:] for pk in ids]).update(enqueued_at=None)
    return sum(len(ids) for _, _, ids in batches[:sent]) + riding


def _send(batches: list[tuple[float | None, str, list[int]]], *, fill: bool) -> int:
    """Publish ``batches``; return how many were sent. A broker failure is logged and stops the
    rest (not one publish retry policy spent per batch), and frees the marks of those not sent."""
    from sync.tasks import run_jobs  # a real cycle: the task runs the executor, which enqueues through here

    if not batches:  # every one rode on a queued wake-up: no broker connection needed
        return 0
    sent = 0
    try:
        # One pooled broker connection for all the wake-ups, instead of one checkout per message.
        with run_jobs.app.producer_or_acquire() as producer:
            for delay, system, ids in batches:
                run_jobs.apply_async(args=[system, ids], kwargs={} if fill else {"fill": False}, countdown=delay,
                                     producer=producer)
                sent += 1
    except BROKER_ERRORS as exc:  # the row is the record; a lost wake-up is repaired later
        BROKER.failed(exc)
        log.warning("sync.enqueue_failed", system=batches[sent][1], jobs=len(batches[sent][2]),
                    error_class=type(exc).__name__)
        _unmark([_queued_key(system) for delay, system, ids in batches[sent:] if _small(delay, ids)])
    else:
        BROKER.answered()
    return sent


def _queued_key(system: str) -> str:
    return f"sync:wake-queued:{system}"


def _small(delay: float | None, ids: list[int]) -> bool:
    """A wake-up due now for fewer jobs than a batch: at most one such per system waits in the queue."""
    return delay is None and len(ids) < JOBS_PER_BATCH


def _coalesced(batches: list[tuple[float | None, str, list[int]]]) -> tuple[list, int]:
    """``batches`` less the small ones whose system has a small wake-up queued already (its worker
    takes these jobs with the system's other due ones); each small one kept marks its system.
    Returns the batches to send and how many jobs ride on a queued wake-up. Without a cache that
    answers, every batch is sent."""
    kept, riding = [], 0
    for batch in batches:
        delay, system, ids = batch
        if _small(delay, ids) and not CACHE.down:
            try:
                first = cache.add(_queued_key(system), 1, timeout=QUEUED_MARK_SECONDS)
            except CACHE_ERRORS as exc:
                CACHE.failed(exc)
            else:
                if not first:
                    riding += len(ids)
                    continue
        kept.append(batch)
    return kept, riding


def _unmark(keys: list[str]) -> None:
    if keys and not CACHE.down:
        try:
            cache.delete_many(keys)
        except CACHE_ERRORS as exc:
            CACHE.failed(exc)


def wake_taken(system: str) -> None:
    """A worker starts on ``system``'s wake-up and is about to read its due jobs: the next small
    wake-up for the system is sent again (it may carry jobs this worker will not see)."""
    _unmark([_queued_key(system)])


def wake_system(system: str) -> None:
    """Wake a worker for ``system``'s due jobs without naming any (a worker that filled a whole
    batch leaves more behind); not sent when a small wake-up for the system is queued already."""
    if not BROKER.down:
        _send(_coalesced([(None, system, [])])[0], fill=True)


def _batches(groups: dict[float | None, list[int]],
             systems: dict[int, str] | None = None) -> list[tuple[float | None, str, list[int]]]:
    """The wake-ups for ``groups`` (job ids by countdown): per countdown and system, in job order,
    at most ``JOBS_PER_BATCH`` jobs each. ``systems``: each job's system, when already read (a job
    missing from it is gone)."""
    if systems is None:
        ids = [pk for pks in groups.values() for pk in pks]
        systems = dict(SyncJob.objects.filter(pk__in=ids).values_list("pk", "system")) if ids else {}
    batches = []
    for delay, pks in groups.items():
        by_system: dict[str, list[int]] = defaultdict(list)
        for pk in pks:
            if pk in systems:
                by_system[systems[pk]].append(pk)
        for system, mine in by_system.items():
            batches += [(delay, system, mine[i:i + JOBS_PER_BATCH]) for i in range(0, len(mine), JOBS_PER_BATCH)]
    return batches


def _reserve_slots(job_ids: list[int]) -> tuple[dict[float | None, list[int]], set[int], dict[int, str]]:
    """Reserve a rate-limit slot for each due job without one (one bucket call per tool, in job
    order); park those whose slot is later. Returns the jobs to wake grouped by countdown
    (``None``: now; a job whose slot is beyond the sweeper's next run is left to it), the
    parked jobs (their ``enqueued_at`` already written) and every job's system (one read)."""
    now = timezone.now()
    waiting = SyncJob.objects.waiting()
    rows = (SyncJob.objects.filter(pk__in=job_ids).order_by("pk")
            .values_list("pk", "system", "action", "rate_slot_at", "status", "next_attempt_at"))
    systems: dict[int, str] = {}
    asking: dict = defaultdict(list)
    for pk, system, action, slot, status, due_at in rows:
        systems[pk] = system
        # Only a job still waiting takes its slot: one a worker claimed meanwhile keeps what it has.
        if status not in WAITING_JOB_STATUSES or due_at > now:
            continue
        provider = provider_for(system)
        if not holds_slot(slot, provider, now):
            asking[provider].append((pk, action))
    slots: dict[int, datetime] = {}
    for provider, jobs in asking.items():
        waits = rate_reserve(provider=provider, actions=[action for _, action in jobs])
        slots.update({pk: now + timedelta(seconds=wait) for (pk, _), wait in zip(jobs, waits)})
    parked = {pk: at for pk, at in slots.items() if at > now}
    groups: dict[float | None, list[int]] = defaultdict(list)
    for pk in job_ids:
        if pk not in parked:
            groups[None].append(pk)
        elif (delay := (parked[pk] - now).total_seconds()) <= settings.SYNC_SWEEP_INTERVAL:
            groups[math.ceil(delay * 10) / 10].append(pk)  # rounded up: never before its slot
    if len(parked) < len(slots):
        waiting.filter(pk__in=[pk for pk in slots if pk not in parked]).update(rate_slot_at=now)
    if parked:
        woken = {pk for delay, ids in groups.items() if delay is not None for pk in ids}
        waiting.filter(pk__in=list(parked)).update(
            next_attempt_at=per_job(parked, "next_attempt_at"), rate_slot_at=per_job(parked, "rate_slot_at"),
            enqueued_at=Case(When(pk__in=list(woken), then=Value(now)), default=None),
            updated_at=now,
        )
    return dict(groups), set(parked), systems
