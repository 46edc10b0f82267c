"""Reconcile the outside tools with billing truth: read each tool, record each difference as a
``ToolDrift`` row, and repair it through the ordinary outbox.

A pass over one system walks the customers in key order and keeps its cursor on a ``DriftPass``
row after each one, so an interrupted pass resumes where it stopped without reading again what it
finished. Reads are paced through the tool's own rate limit (the same bucket the jobs take from)
and, on their own, never faster than ``DRIFT_READ_SHARE`` of the tool's published budget.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from audit.context import current_correlation_id
from audit.models import Source
from audit.services import audit_record
from core.logs import log_hash
from customers.models import Customer, CustomerStatus, ExternalLink, System
from sync.drift import Difference, differences, repair_work
from sync.errors import SyncError
from sync.models import ToolDrift, DriftKind, DriftPass, DriftResolution, SyncJob
from sync.providers import SANDBOX, provider_for
from sync.providers.errors import ProviderError
from sync.providers.reading import Identity
from sync.ratelimit import limit_for, rate_reserve, seconds_per_call
from sync.rules import SYNCED_SYSTEMS
from sync.services.outbox import _jobs_insert, fitted_key, jobs_enqueue_on_commit
from sync.services.rules import mapping_rules_current

log = structlog.get_logger(__name__)

READ = "read"  # the action name a read is priced and paced as
CHUNK = 200
# Tools keyed by our id: a record with our id and another email is an identity mismatch.
KEYED_BY_ID = {"hubspot", "zendesk", "intercom", SANDBOX}
BY_EMAIL = {System.COMMUNITY, System.EMAIL}  # systems whose tools know a customer by email only


@dataclass
class PassResult:
    system: str
    tool: str
    checked: int = 0
    reads: int = 0
    found: list[tuple[str, Difference]] = field(default_factory=list)  # (public id or "", difference)
    repaired: int = 0
    resumed: bool = False
    finished: bool = False  # False after a slice that used its reads before the end
    skipped: str = ""  # why the system was not read
    skipped_customers: int = 0  # with jobs on their way to the tool or dead, or no email where the tool needs one


class Pacer:
    """Reads at most ``share`` of the tool's budget on their own, and take their tokens from the
    tool's shared bucket, waiting their slot like a job would. Tokens are taken a few reads at a
    time (one bucket round trip for several reads)."""

    BATCH = 20

    def __init__(self, provider: ModuleType, share: float, sleep: Callable[[float], None],
                 budget: int | None = None, expected: int | None = None) -> None:
        self.provider, self.sleep, self.budget = provider, sleep, budget
        self.expected = expected  # reads the pass still means to make, where known: none reserved beyond
        self.interval = seconds_per_call(provider, READ) / max(min(share, 1.0), 0.01)
        self.next_at = 0.0
        self.slots: list[float] = []  # when each reserved read may go (monotonic seconds)
        self.taken = 0

    def spent(self) -> bool:
        """The slice's reads are all used (never, without a budget)."""
        return self.budget is not None and self.taken >= self.budget and not self.slots

    def wait(self) -> None:
        if not self.slots:
            now, batch = time.monotonic(), self.BATCH if self.budget is None else min(self.BATCH, self.budget - self.taken)
            if self.expected is not None:  # tokens reserved and not used would be lost to the jobs
                batch = min(batch, self.expected - self.taken)
            self.slots = [now + w for w in rate_reserve(provider=self.provider, actions=[READ] * max(batch, 1))]
            self.taken += len(self.slots)
        pause = max(self.next_at, self.slots.pop(0)) - time.monotonic()
        if pause > 0:
            self.sleep(pause)

    def done(self) -> None:
        """Counted from the answer, not the request: the tool sees the reads at least this far apart."""
        self.next_at = time.monotonic() + self.interval


def drift_open() -> QuerySet[ToolDrift]:
    return ToolDrift.objects.filter(resolved_at__isnull=True)


def _customers(scope: Customer | None):
    """Live customers, in key order (the cursor's); one whose identity awaits a decision is not
    judged: what the tools should hold for them is not known yet."""
    qs = Customer.objects.live().exclude(status=CustomerStatus.NEEDS_REVIEW).order_by("pk")
    return qs.filter(pk=scope.pk) if scope is not None else qs


def _pass_for(system: str, tool: str, scope: str, *, fresh: bool) -> tuple[DriftPass, bool]:
    """The unfinished pass of ``system`` to resume, or a new one."""
    if not fresh:
        unfinished = DriftPass.objects.filter(system=system, scope=scope, finished_at__isnull=True).first()
        if unfinished is not None:
            return unfinished, True
    return DriftPass.objects.create(system=system, provider=tool, scope=scope), False


def reconcile_system(
    *, system: str, customer: Customer | None = None, apply: bool = False, dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None, sleep: Callable[[float], None] = time.sleep,
    share: float | None = None, fresh: bool = False, max_reads: int | None = None,
) -> PassResult:
    """One pass over ``system``: read every customer's record (or ``customer``'s), record what
    differs; with ``apply``, repair each difference found; ``dry_run`` writes nothing at all.
    With ``max_reads`` the pass stops after that many reads (its cursor kept) and is resumed by the
    next call: a slice, so a worker never spends a long pass waiting for the tool's budget."""
    if system not in SYNCED_SYSTEMS:
        raise SyncError(f"{system!r} is not a system Switchboard syncs to.")
    provider = provider_for(system)
    result = PassResult(system=system, tool=provider.NAME)
    if not hasattr(provider, "read"):
        result.skipped = f"{provider.LABEL} cannot be read back yet"
        return result
    rules = mapping_rules_current()[system].rules
    scope = customer.public_id if customer is not None else ""
    run = None if dry_run else _pass_for(system, provider.NAME, scope, fresh=fresh)
    if run is not None:
        run, result.resumed = run
    remaining = _customers(customer).filter(pk__gt=run.cursor if run else 0)
    total = remaining.count()
    # The orphan listing's pages are not known ahead: past the customers, a read reserves only itself.
    pacer = Pacer(provider, settings.DRIFT_READ_SHARE if share is None else share, sleep, budget=max_reads,
                  expected=total)
    keyed = provider.NAME in KEYED_BY_ID
    book = _Book(run, system, rules, apply, result)
    try:
        while True:
            chunk = list(remaining.filter(pk__gt=book.cursor)[:CHUNK])
            if not chunk:
                break
            links = dict(ExternalLink.objects.filter(customer__in=chunk, system=system)
                         .values_list("customer_id", "external_id"))
            # Work on its way, or given up and already in the queue as a dead job: not drift of its own.
            waiting = set(SyncJob.objects.open_or_dead().filter(customer__in=chunk, system=system)
                          .values_list("customer_id", flat=True))
            book.load(chunk)
            for row in chunk:
                if pacer.spent():
                    break
                if row.pk in waiting or (not row.email and system in BY_EMAIL):
                    # Work on its way will change the tool (judged on the next pass), a dead job
                    # already asks a person for it, or the tool cannot hold a customer without an
                    # email: nothing to read.
                    result.skipped_customers += 1
                else:
                    pacer.wait()
                    snapshot = provider.read(Identity(system=system, public_id=row.public_id, email=row.email,
                                                      linked_id=links.get(row.pk, "")))
                    pacer.done()
                    found = differences(system=system, rules=rules, customer=row, snapshot=snapshot,
                                        keyed_by_id=keyed)
                    result.found += [(row.public_id, d) for d in found]
                    book.record(row, found)
                book.finished(row)
                if progress:
                    progress(result.checked + result.skipped_customers, total)
            book.save()
            if pacer.spent():
                return result  # this slice's reads are used: the next one resumes from the cursor
        if customer is None and hasattr(provider, "listed") and not _orphans(run, provider, system, pacer, result):
            return result  # the listing resumes from its page cursor in the next slice
    except BaseException as exc:
        book.save()  # what was read before the failure (or the task's time limit) stays read
        if not isinstance(exc, ProviderError):
            raise
        if run is not None:
            DriftPass.objects.filter(pk=run.pk).update(error=str(exc)[:300])
        log.warning("drift.pass_interrupted", system=system, error_class=type(exc).__name__)
        raise SyncError(f"{provider.LABEL} stopped answering after {result.checked} customers ({exc}); "
                        f"run the command again to resume from there.") from exc
    if run is not None:
        _finish(run, system, customer, result)
    return result


class _Book:
    """What a pass writes: each customer's differences (one open row each), the rows the tool no
    longer shows closed, and the cursor, saved every ``SAVE_EVERY`` customers and whenever the pass
    stops, so a crash reads again at most that many."""

    SAVE_EVERY = 50

    def __init__(self, run: DriftPass | None, system: str, rules: dict, apply: bool, result: PassResult) -> None:
        self.run, self.system, self.rules, self.apply, self.result = run, system, rules, apply, result
        self.cursor = run.cursor if run else 0
        self.saved_checked, self.saved_found, self.unsaved = 0, 0, 0
        self.open: dict[int, dict] = {}
        self.ignored: set[tuple] = set()

    def load(self, chunk: list[Customer]) -> None:
        """The open and ignored differences of a chunk's customers: two reads per chunk, not per customer."""
        self.open, self.ignored = {}, set()
        if self.run is None:
            return
        mine = ToolDrift.objects.filter(system=self.system, customer__in=chunk)
        for row in mine.filter(resolved_at__isnull=True):
            self.open.setdefault(row.customer_id, {})[(row.kind, row.field)] = row
        self.ignored = set(mine.filter(resolution=DriftResolution.IGNORED)
                           .values_list("customer_id", "kind", "field", "expected", "actual"))

    def record(self, customer: Customer, found: list[Difference]) -> None:
        self.result.checked += 1
        self.result.reads += 1
        open_rows = self.open.pop(customer.pk, {})
        if self.run is None or not (found or open_rows):
            return
        now = timezone.now()
        with transaction.atomic():
            for diff in found:
                row = open_rows.pop((diff.kind, diff.field), None)
                if row is not None:
                    ToolDrift.objects.filter(pk=row.pk).update(seen_at=now, expected=diff.expected,
                                                               actual=diff.actual, external_id=diff.external_id)
                elif (customer.pk, diff.kind, diff.field, diff.expected, diff.actual) not in self.ignored:
                    self._new(customer, diff, now)
            _resolve_gone([row.pk for row in open_rows.values()], now)

    def _new(self, customer: Customer, diff: Difference, now) -> None:
        row = ToolDrift.objects.create(customer=customer, system=self.system, kind=diff.kind, field=diff.field,
                                       expected=diff.expected, actual=diff.actual, external_id=diff.external_id,
                                       found_at=now, seen_at=now)
        if self.apply and drift_repair(drift=row, actor=None, source=Source.COMMAND, rules=self.rules):
            self.result.repaired += 1

    def finished(self, customer: Customer) -> None:
        self.cursor, self.unsaved = customer.pk, self.unsaved + 1
        if self.unsaved >= self.SAVE_EVERY:
            self.save()

    def save(self) -> None:
        if self.run is None:
            return
        checked, found = self.result.checked, len(self.result.found)
        DriftPass.objects.filter(pk=self.run.pk).update(
            cursor=self.cursor, checked=F("checked") + checked - self.saved_checked,
            found=F("found") + found - self.saved_found, reads=F("reads") + checked - self.saved_checked)
        self.saved_checked, self.saved_found, self.unsaved = checked, found, 0


def _resolve_gone(pks: list[int], now) -> None:
    if pks:
        ToolDrift.objects.filter(pk__in=pks, resolved_at__isnull=True).update(
            resolved_at=now, resolution=DriftResolution.GONE)


def _orphans(run: DriftPass | None, provider: ModuleType, system: str, pacer: Pacer,
             result: PassResult) -> bool:
    """Records in the tool that carry one of our ids that no customer has, a page at a time (the
    page cursor kept on the pass, like the customer cursor). False when the slice ran out of reads
    before the last page; orphans the whole listing no longer shows are closed at its end."""
    after = run.listing_after if run else ""
    while True:
        if pacer.spent():
            if run is not None:
                DriftPass.objects.filter(pk=run.pk).update(listing_after=after)
            return False
        pacer.wait()
        page, following = provider.listed(system, after=after)
        pacer.done()
        result.reads += 1
        result.found += [("", d) for d in _orphans_record(run, system, [r for r in page if r.public_id])]
        if not following:
            break
        after = following
    if run is not None:
        stale = drift_open().filter(system=system, kind=DriftKind.ORPHAN, seen_at__lt=run.started_at)
        _resolve_gone(list(stale.values_list("pk", flat=True)), timezone.now())
    return True


def _orphans_record(run: DriftPass | None, system: str, records: list) -> list[Difference]:
    known = set(Customer.objects.filter(public_id__in=[r.public_id for r in records]).values_list("public_id", flat=True))
    found = [Difference(DriftKind.ORPHAN, "public_id", "", r.public_id, r.external_id)
             for r in records if r.public_id not in known]
    if run is None or not found:
        return found
    now = timezone.now()
    mine = ToolDrift.objects.filter(system=system, kind=DriftKind.ORPHAN, external_id__in=[d.external_id for d in found])
    open_rows = {d.external_id: d.pk for d in mine.filter(resolved_at__isnull=True)}
    ignored = set(mine.filter(resolution=DriftResolution.IGNORED).values_list("external_id", flat=True))
    with transaction.atomic():
        ToolDrift.objects.filter(pk__in=open_rows.values()).update(seen_at=now)
        ToolDrift.objects.bulk_create([
            ToolDrift(system=system, kind=DriftKind.ORPHAN, field="public_id", actual=d.actual,
                      external_id=d.external_id, found_at=now, seen_at=now)
            for d in found if d.external_id not in open_rows and d.external_id not in ignored])
    return found


def _finish(run: DriftPass, system: str, customer: Customer | None, result: PassResult) -> None:
    """Close the pass; a difference of a customer the pass did not reach again is not judged."""
    DriftPass.objects.filter(pk=run.pk).update(finished_at=timezone.now(), error="")
    result.finished = True
    log.info("drift.pass_finished", system=system, checked=result.checked, found=len(result.found),
             scope=log_hash(customer.public_id) if customer else "")


def drift_repair(*, drift: ToolDrift, actor, source: str = Source.UI, rules: dict | None = None) -> list[SyncJob]:
    """Write the ordinary outbox jobs that put the tool right (keyed by the difference, so a second
    repair writes nothing new), audited; the difference is closed as repair sent."""
    if drift.resolved_at is not None:
        raise SyncError("This difference is already closed.")
    if drift.customer_id is None:
        raise SyncError("An orphan names no customer: there is nothing to send. Ignore it with a note, "
                        "or remove the record in the tool.")
    rules = rules if rules is not None else mapping_rules_current()[drift.system].rules
    customer = drift.customer
    planned = repair_work(system=drift.system, rules=rules, customer=customer, kind=drift.kind,
                          field=drift.field, expected=drift.expected, actual=drift.actual)
    if not planned:
        raise SyncError("The mapping rules ask nothing of this tool for this customer: nothing to send.")
    now, correlation_id = timezone.now(), current_correlation_id()
    wanted = {}
    for job in planned:
        key = fitted_key(f"drift:{drift.pk}:{job.system}:{job.action}" + (f":{job.key_suffix}" if job.key_suffix else ""))
        wanted[key] = SyncJob(idempotency_key=key, customer=customer, system=job.system, action=job.action,
                              payload={"event_type": "drift.repair", **job.payload}, correlation_id=correlation_id,
                              next_attempt_at=now, enqueued_at=now)
    with transaction.atomic():
        created = _jobs_insert(wanted)
        ToolDrift.objects.filter(pk=drift.pk).update(resolved_at=now, resolution=DriftResolution.REPAIRED,
                                                 resolved_by=actor)
        audit_record(action="sync.drift_repair", source=source, actor=actor, customer=customer, target=drift,
                     summary=f"Repair of {drift.get_kind_display().lower()} in {drift.system} sent",
                     changes={"drift": drift.pk, "kind": drift.kind, "field": drift.field,
                              "jobs": [j.pk for j in created]})
        jobs_enqueue_on_commit(job_ids=[j.pk for j in created], marked=True)
    return created


def drift_ignore(*, drift: ToolDrift, note: str, actor, source: str = Source.UI) -> None:
    """Leave the tool as it is, with a note: later passes do not raise exactly this difference again."""
    note = (note or "").strip()
    if not note:
        raise SyncError("Write a short note saying why this difference may stay.")
    _close(drift, DriftResolution.IGNORED, note, actor, source, "Ignored")


def drift_accept(*, drift: ToolDrift, note: str, actor, source: str = Source.UI) -> None:
    """Accept the tool's value as a question for a person, never as an overwrite: an email changed in
    the tool is kept for review and billing identity stays as it is."""
    if drift.kind != DriftKind.IDENTITY_MISMATCH:
        raise SyncError("Only an identity difference can be accepted for review; repair or ignore this one.")
    _close(drift, DriftResolution.REVIEW, note or f"The tool says {drift.actual}", actor, source, "Kept for review")


def _close(drift: ToolDrift, resolution: str, note: str, actor, source: str, verb: str) -> None:
    with transaction.atomic():
        changed = ToolDrift.objects.filter(pk=drift.pk, resolved_at__isnull=True).update(
            resolved_at=timezone.now(), resolution=resolution, resolved_by=actor, note=note[:300])
        if not changed:
            raise SyncError("This difference is already closed.")
        audit_record(action=f"sync.drift_{resolution}", source=source, actor=actor, customer=drift.customer,
                     target=drift, summary=f"{verb}: {drift.get_kind_display().lower()} in {drift.system}",
                     changes={"drift": drift.pk, "note": note[:300]})


def drift_repair_bulk(*, system: str, kind: str, actor, source: str = Source.UI, dry_run: bool = False,
                      visible: Q | None = None) -> list[tuple[ToolDrift, str]]:
    """Repair every open difference of one kind in one system; ``dry_run`` only says what each would send."""
    rows = drift_open().filter(system=system, kind=kind, customer__isnull=False).select_related("customer")
    if visible is not None:
        rows = rows.filter(visible)
    rules = mapping_rules_current()[system].rules
    lines = []
    for drift in rows.order_by("pk"):
        planned = repair_work(system=system, rules=rules, customer=drift.customer, kind=kind, field=drift.field,
                              expected=drift.expected, actual=drift.actual)
        what = ", ".join(j.action.replace("_", " ") + (f" {j.key_suffix}" if j.key_suffix else "") for j in planned)
        if not dry_run and planned:
            drift_repair(drift=drift, actor=actor, source=source, rules=rules)
        lines.append((drift, what or "nothing to send"))
    return lines


def every_system_in_sandbox() -> bool:
    return all(provider_for(system).NAME == SANDBOX for system in SYNCED_SYSTEMS)


def reconcile_tools(*, systems: list[str] | None = None, customer: Customer | None = None, apply: bool = False,
                    dry_run: bool = False, progress: Callable[[str, int, int], None] | None = None,
                    fresh: bool = False) -> list[PassResult]:
    """A pass over each system in turn (every synced one unless named)."""
    results = []
    for system in systems or SYNCED_SYSTEMS:
        tick = (lambda done, total, s=system: progress(s, done, total)) if progress else None
        results.append(reconcile_system(system=system, customer=customer, apply=apply, dry_run=dry_run,
                                        progress=tick, fresh=fresh))
    return results


def tool_drift_health() -> list[dict]:
    """Per system: its newest pass (finished or still to resume), customers it checked, differences open."""
    open_counts = dict(drift_open().order_by().values("system").annotate(n=Count("id")).values_list("system", "n"))
    newest: dict[str, DriftPass] = {}
    for run in DriftPass.objects.filter(scope="").order_by("system", "-started_at", "-pk"):
        newest.setdefault(run.system, run)
    return [{"system": system, "tool": provider_for(system).LABEL, "last_pass": newest.get(system),
             "open": open_counts.get(system, 0)} for system in SYNCED_SYSTEMS]


def tool_drift_open_by_kind() -> dict[tuple[str, str], list[int]]:
    """The open differences' ids per (system, kind), newest first: the alert's facts."""
    found: dict[tuple[str, str], list[int]] = {}
    for pk, system, kind in drift_open().order_by("-pk").values_list("pk", "system", "kind"):
        found.setdefault((system, kind), []).append(pk)
    return found


def reconcile_tools_slice(*, start: bool) -> float | None:
    """One slice of the scheduled pass: in each system (every one when ``start``, else those with a
    pass to resume) read at most ``DRIFT_READ_SHARE`` of the tool's window budget, at the tool's
    pace. Returns the seconds until the next slice may run, or None when every pass is finished."""
    waits = []
    for system in SYNCED_SYSTEMS:
        unfinished = DriftPass.objects.filter(system=system, scope="", finished_at__isnull=True).exists()
        if not (start or unfinished):
            continue
        provider = provider_for(system)
        capacity, per = limit_for(provider.NAME)
        burst = max(1, int(settings.DRIFT_READ_SHARE * capacity / max(provider.cost(READ), 1)))
        if not reconcile_system(system=system, share=1.0, max_reads=burst).finished:
            waits.append(float(per))
    return max(waits) if waits else None
