"""Webhooks' part of the queue: deliveries that gave up (resend one, after the receiver is fixed).

The dead-jobs alert counts them with every other dead job, so the owner's queue must show them too;
sync's dead-job groups are the synced tools' only (an endpoint is a system of its own)."""

from django.db.models import F
from django.db.models.functions import Coalesce

from action_queue import registry
from action_queue.items import ActionGroup, ActionItem, QueueContext, one_group, open_items, page_of
from sync.models import JobStatus, SyncJob
from webhooks.errors import WebhookError
from webhooks.models import MANAGE_PERM, SYSTEM_PREFIX, Endpoint
from webhooks.services import delivery_resend


def dead_delivery_items(ctx: QueueContext) -> list[ActionGroup]:
    qs = open_items(
        SyncJob.objects.filter(status=JobStatus.DEAD, system__startswith=SYSTEM_PREFIX),
        kind="dead_delivery",
        since=Coalesce("finished_at", F("updated_at")),
        ctx=ctx,
    )
    count, rows = page_of(qs, ctx, shown=("system", "payload", "last_error", "reason_code", "customer_id",
                                          "finished_at", "updated_at"))
    ids = {int(job.system.removeprefix(SYSTEM_PREFIX)) for job in rows}
    endpoints = Endpoint.objects.in_bulk(ids)
    items = []
    for job in rows:
        endpoint = endpoints.get(int(job.system.removeprefix(SYSTEM_PREFIX)))
        where = str(endpoint) if endpoint else "a deleted endpoint"
        event_type = (job.payload or {}).get("event_type") or "A delivery"
        reason = job.get_reason_code_display() or "Failed"
        items.append(ActionItem(
            kind="dead_delivery",
            object_id=str(job.pk),
            what=f"{event_type} to {where} gave up",
            reason=f"{reason}: {job.last_error}" if job.last_error else reason,
            since=job.q_since,
            customer_id=job.customer_id,
            url=(ctx.url("webhook_endpoint", endpoint.pk) + "?status=dead") if endpoint else ctx.url("webhook_endpoints"),
            url_label="Deliveries",
            actions=("resend", "assign", "resolve") if endpoint else ("assign", "resolve"),
            system=job.system,
        ))
    return one_group("dead_delivery", "Webhook deliveries that gave up", count, items,
                     more_url=ctx.url("webhook_endpoints"), more_label="see every endpoint")


def _resend(*, item: ActionItem, actor, source: str) -> registry.Outcome:
    job = SyncJob.objects.get(pk=item.object_id)
    endpoint = Endpoint.objects.filter(pk=int(job.system.removeprefix(SYSTEM_PREFIX))).first()
    if endpoint is None:
        return registry.Outcome(error="That endpoint no longer exists.")
    try:
        resent = delivery_resend(endpoint=endpoint, job=job, actor=actor, source=source)
    except WebhookError as exc:
        return registry.Outcome(error=str(exc))
    return registry.Outcome(done=f"Resent as job #{resent.pk}, with the same webhook-id; it goes out in a moment.")


def register() -> None:
    registry.register(registry.Kind(
        "dead_delivery", dead_delivery_items, lambda user: user.has_perm(MANAGE_PERM), model=SyncJob,
        actions=(registry.RowAction("resend", "queue_resend_delivery", _resend,
                                    confirm="Send this delivery again to its endpoint?"),),
        watches="webhook deliveries that gave up",
    ))
