"""Sync's part of the queue: dead jobs (retry one, retry all of a system), systems paused or failing (resume)
and outside tools that disagree with billing truth (repair one, repair a kind after a preview)."""

from collections import defaultdict

from django.db import connection
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from action_queue import registry
from action_queue.items import (
    ActionGroup,
    ActionItem,
    CountLater,
    GroupLink,
    QueueContext,
    one_group,
    open_items,
    page_of,
)
from core.text import count_of
from customers.models import CustomerStatusChange, System
from sync import drift_views
from sync.drift_views import allowed, drift_reason, drift_sentence, narrowed
from sync.errors import SyncError
from sync.models import DriftKind, DriftResolution, JobStatus, SyncJob, SystemState, ToolDrift
from sync.rules import SYNCED_SYSTEMS
from sync.selectors import retryable_systems
from sync.services import job_retry, system_resume
from sync.services.drift import drift_repair
from sync.views import queue_retry_all


def dead_job_items(ctx: QueueContext) -> list[ActionGroup]:
    """Dead outbound jobs, one group per system, for the systems this person may retry."""
    systems = retryable_systems(ctx.user)
    if not systems:
        return []
    base = open_items(
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
        retry_all = GroupLink("retry_all", "Retry all", ctx.url("queue_retry_all", system), noun=f"dead {system} jobs")
        groups.append(
            ActionGroup(
                kind="dead_job",
                key=f"dead_job:{system}",
                title=f"Dead {label} jobs",
                count=CountLater(base, by="system", value=system),
                items=items,
                system=system,
                bulk_if_many=() if ctx.mine else (retry_all,),
                more_url=ctx.url("job_list") + f"?status=dead&system={system}",
                more_label="see all in the job log",
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


def system_items(ctx: QueueContext) -> list[ActionGroup]:
    """An outside system that is paused or failing as a whole (credentials rejected, breaker open)."""
    now = timezone.now()
    qs = open_items(
        # The synced systems' switches: a family's (an outbound webhook endpoint's) are its own screen's.
        SystemState.objects.filter(system__in=[*SYNCED_SYSTEMS, SystemState.ALL]).filter(
            Q(paused=True) | Q(breaker_open_until__gt=now) | Q(last_failure_reason="auth_failed", consecutive_failures__gt=0)
        ),
        kind="system",
        since=Coalesce("paused_at", "updated_at"),
        ctx=ctx,
        customer_path=None,
    )
    count, rows = page_of(qs, ctx, shown=("system", "paused", "paused_reason", "last_failure_reason", "consecutive_failures", "breaker_open_until"))
    labels = dict(System.choices) | {SystemState.ALL: "Every system"}
    items = []
    for state in rows:
        label = labels.get(state.system, state.system)
        if state.paused:
            what, reason = f"{label} is paused", state.paused_reason or "Paused by staff"
        elif state.last_failure_reason == "auth_failed":
            what, reason = f"{label} rejects our credentials", f"{count_of(state.consecutive_failures, 'failure')} in a row"
        else:
            held = f"; calls paused until {timezone.localtime(state.breaker_open_until):%H:%M}" if state.breaker_open_until else ""
            what = f"{label} is failing"
            reason = f"{count_of(state.consecutive_failures, 'failure')} in a row{held}" if state.consecutive_failures else "Failing"
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
    return one_group("system", "Systems failing or paused", count, items)


def _retry(*, item: ActionItem, actor, source: str) -> registry.Outcome:
    try:
        job_retry(job=SyncJob.objects.get(pk=item.object_id), actor=actor, source=source)
    except SyncError as exc:
        return registry.Outcome(error=str(exc))
    return registry.Outcome(done="Queued again; it runs in a moment. Nothing else to do.")


def _resume(*, item: ActionItem, actor, source: str) -> registry.Outcome:
    try:
        system_resume(system=item.system, actor=actor, source=source)
    except SyncError as exc:
        return registry.Outcome(error=str(exc))
    return registry.Outcome(done=f"{item.system} resumed; waiting work starts now.")


def register() -> None:
    registry.register(registry.Kind(
        "dead_job", dead_job_items, lambda user: bool(retryable_systems(user)), model=SyncJob,
        # a role may act on the dead jobs of the systems it may retry only
        narrow=lambda user, rows: rows.filter(system__in=retryable_systems(user)),
        actions=(registry.RowAction("retry", "queue_retry", _retry),),
        group_actions=(registry.GroupAction("system/<slug:system>/retry-all/", "queue_retry_all", queue_retry_all),),
        watches="outbound jobs that failed for good in the systems you may retry",
    ))
    registry.register(registry.Kind(
        "system", system_items, lambda user: user.has_perm("sync.pause_system"), model=SystemState,
        customer_path=None,
        actions=(registry.RowAction("resume", "queue_resume", _resume,
                                    confirm="Resume {system}? Waiting work starts immediately."),),
        watches="systems that are paused or failing",
    ))
    register_drift()


DRIFT = "tool_drift"


REVIEW = DriftResolution.REVIEW


def drift_items(ctx: QueueContext) -> list[ActionGroup]:
    """Open differences, one group per system and kind; and the tool values a person accepted as a
    question (an email changed in the CRM), one review group per system, until someone resolves them."""
    if not allowed(ctx.user):
        return []
    last_change = CustomerStatusChange.objects.filter(customer=OuterRef("customer_id")).order_by("-created_at")
    shown = ToolDrift.objects.filter(Q(resolved_at__isnull=True) | Q(resolution=REVIEW))
    base = open_items(narrowed(ctx.user, shown), kind=DRIFT, since=F("found_at"), ctx=ctx,
                      changed=F("found_at"))  # a later pass seeing it again does not bring a resolved item back
    # Each group's newest rows, every group in one query; differences are few next to jobs, so
    # ranking every open one is cheap.
    rank = Window(RowNumber(), partition_by=[F("system"), F("kind"), F("resolution")],
                  order_by=[F("found_at").desc(), F("pk").desc()])
    rows = list(
        base.select_related("customer").annotate(canceled_at=Subquery(last_change.values("created_at")[:1]),
                                                 q_rank=rank)
        .filter(q_rank__lte=ctx.limit).order_by("system", "resolution", "kind", "-q_since", "-pk")
    )
    groups: dict[tuple[str, str], ActionGroup] = {}
    for drift in rows:
        review = drift.resolution == REVIEW
        key = (drift.system, REVIEW if review else drift.kind)
        if key not in groups:
            groups[key] = _review_group(base, drift, ctx) if review else _drift_group(base, drift, ctx)
        canceled_at = drift.canceled_at if drift.customer and drift.customer.status == "canceled" else None
        actions = ("assign", "resolve") if review else ("assign",) if drift.kind == DriftKind.ORPHAN else ("repair", "assign")
        groups[key].items.append(ActionItem(
            kind=DRIFT, object_id=str(drift.pk), what=drift_sentence(drift, canceled_at=canceled_at),
            reason=f"Accepted for review: {drift.note}" if review else drift_reason(drift), since=drift.q_since,
            customer_id=drift.customer_id, url=ctx.url("drift_detail", drift.pk), url_label="Details",
            actions=actions, system=drift.system,
        ))
    return list(groups.values())


def _drift_group(base: QuerySet, drift: ToolDrift, ctx: QueueContext) -> ActionGroup:
    label = dict(System.choices)[drift.system]
    bulk = GroupLink("repair_all", "Repair all", ctx.url("drift_repair_all", drift.system, drift.kind),
                     noun=f"{drift.get_kind_display().lower()} differences in {label}")
    return ActionGroup(
        kind=DRIFT, key=f"drift:{drift.system}:{drift.kind}",
        title=f"{label} drift: {drift.get_kind_display().lower()}", items=[], system=drift.system,
        count=CountLater(base.filter(resolved_at__isnull=True, system=drift.system, kind=drift.kind)),
        bulk_if_many=() if ctx.mine or drift.kind == DriftKind.ORPHAN else (bulk,),
    )


def _review_group(base: QuerySet, drift: ToolDrift, ctx: QueueContext) -> ActionGroup:
    label = dict(System.choices)[drift.system]
    return ActionGroup(
        kind=DRIFT, key=f"drift:{drift.system}:review", title=f"{label}: values accepted for review", items=[],
        system=drift.system, count=CountLater(base.filter(resolution=REVIEW, system=drift.system)),
    )


def _repair(*, item: ActionItem, actor, source: str) -> registry.Outcome:
    try:
        jobs = drift_repair(drift=ToolDrift.objects.select_related("customer").get(pk=item.object_id), actor=actor,
                            source=source)
    except SyncError as exc:
        return registry.Outcome(error=str(exc))
    return registry.Outcome(done=drift_views.repair_sent(jobs))


def register_drift() -> None:
    registry.register(registry.Kind(
        DRIFT, drift_items, allowed, model=ToolDrift, narrow=narrowed,
        actions=(registry.RowAction("repair", "queue_drift_repair", _repair,
                                    confirm="Send the jobs that put {system} right?"),),
        group_actions=(
            registry.GroupAction("<slug:system>/<slug:kind>/repair-all/", "drift_repair_all",
                                 drift_views.drift_repair_all),
            registry.GroupAction("<int:pk>/", "drift_detail", drift_views.drift_detail),
            registry.GroupAction("<int:pk>/send-repair/", "drift_repair", drift_views.drift_repair_view),
            registry.GroupAction("<int:pk>/ignore/", "drift_ignore", drift_views.drift_ignore_view),
            registry.GroupAction("<int:pk>/accept/", "drift_accept", drift_views.drift_accept_view),
        ),
        watches="outside tools that disagree with billing truth",
    ))

