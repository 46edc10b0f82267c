"""Sync's part of the queue: dead jobs (retry one, retry all of a system) and systems paused or failing (resume)."""

from collections import defaultdict

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
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
from customers.models import System
from sync.errors import SyncError
from sync.models import JobStatus, SyncJob, SystemState
from sync.selectors import retryable_systems
from sync.services import job_retry, system_resume
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
        SystemState.objects.filter(
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
