"""The owner's actions on endpoints and Slack routes, and the scheduled check that switches off an
endpoint failing too long. Each owns its transaction and writes its audit record inside it."""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import Source
from audit.services import audit_record
from sync.errors import SyncError
from sync.models import JobStatus, SyncJob, SystemState
from sync.services.outbox import jobs_enqueue_on_commit
from sync.services.setaside import job_set_aside
from webhooks import catalog, endpoints, signing, slack
from webhooks.errors import WebhookError
from webhooks.facts import fact_resend, test_delivery
from webhooks.models import PERSONAL_FIELDS, Endpoint, EndpointKind


def _clean(*, kind: str, url: str, description: str, event_types: list[str], notices: list[str],
           personal_fields: list[str]) -> dict:
    url = (url or "").strip()
    problem = endpoints.url_problem(url, allow_http=settings.DEBUG or not settings.PRODUCTION)
    if problem:
        raise WebhookError(problem)
    if kind not in EndpointKind.values:
        raise WebhookError("Choose a signed webhook or a Slack route.")
    unknown = [t for t in event_types if t not in catalog.EVENT_TYPES]
    if unknown or [n for n in notices if n not in slack.NOTICES] or [
            f for f in personal_fields if f not in PERSONAL_FIELDS]:
        raise WebhookError("Choose from the listed events, notices and fields.")
    if kind == EndpointKind.STANDARD and not event_types:
        raise WebhookError("Choose at least one event to send.")
    if kind == EndpointKind.SLACK and not notices:
        raise WebhookError("Choose at least one notice for this channel.")
    return {"url": url, "description": (description or "").strip()[:200], "event_types": sorted(event_types),
            "notices": sorted(notices), "personal_fields": sorted(personal_fields)}


def endpoint_create(*, kind: str, url: str, description: str = "", event_types: list[str] = (),
                    notices: list[str] = (), refund_threshold_cents: int = 0, personal_fields: list[str] = (),
                    actor, source: str = Source.UI) -> tuple[Endpoint, str]:
    """Register an endpoint; return it with its signing secret ("" for a Slack route), shown once."""
    fields = _clean(kind=kind, url=url, description=description, event_types=list(event_types),
                    notices=list(notices), personal_fields=list(personal_fields))
    secret = signing.new_secret() if kind == EndpointKind.STANDARD else ""
    with transaction.atomic():
        endpoint = Endpoint.objects.create(kind=kind, secret=secret, refund_threshold_cents=refund_threshold_cents,
                                           created_by=actor if getattr(actor, "is_authenticated", False) else None,
                                           **fields)
        audit_record(action="webhooks.endpoint_create", source=source, actor=actor, target=endpoint,
                     summary=f"{endpoint.get_kind_display()} registered: {endpoint.url_host()}",
                     changes={"kind": kind, "host": endpoint.url_host(), "events": fields["event_types"],
                              "notices": fields["notices"], "personal_fields": fields["personal_fields"]})
    return endpoint, secret


def endpoint_update(*, endpoint: Endpoint, url: str, description: str = "", event_types: list[str] = (),
                    notices: list[str] = (), refund_threshold_cents: int = 0, personal_fields: list[str] = (),
                    actor, source: str = Source.UI) -> Endpoint:
    """Change where an endpoint is and what it gets; deliveries waiting go to the new address."""
    fields = _clean(kind=endpoint.kind, url=url, description=description, event_types=list(event_types),
                    notices=list(notices), personal_fields=list(personal_fields))
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        changed = {name: [getattr(locked, name), value] for name, value in
                   {**fields, "refund_threshold_cents": refund_threshold_cents}.items()
                   if getattr(locked, name) != value}
        for name, (_, value) in changed.items():
            setattr(locked, name, value)
        locked.save()
        if "url" in changed:  # the address may hold a secret (Slack's does): only its host is kept
            changed["url"] = [Endpoint(url=changed["url"][0]).url_host(), locked.url_host()]
        audit_record(action="webhooks.endpoint_update", source=source, actor=actor, target=locked,
                     summary=f"Endpoint {locked.url_host()} changed", changes=changed)
    return locked


def endpoint_rotate(*, endpoint: Endpoint, actor, source: str = Source.UI, now: datetime | None = None) -> str:
    """A new signing secret; the old one goes on signing beside it for the overlap. Returns the new one."""
    if endpoint.is_slack:
        raise WebhookError("A Slack route is not signed: it has no secret to rotate.")
    now = now or timezone.now()
    overlap = timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    with transaction.atomic():
        locked = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
        keys = locked.keys().rotated(now, overlap)
        Endpoint.objects.filter(pk=locked.pk).update(secret=keys.current, previous_secret=keys.previous,
                                                     previous_secret_until=keys.previous_until, updated_at=now)
        audit_record(action="webhooks.secret_rotate", source=source, actor=actor, target=locked,
                     summary=f"Signing secret of {locked.url_host()} rotated; the old one signs until "
                             f"{keys.previous_until:%Y-%m-%d %H:%M} UTC",
                     changes={"overlap_until": keys.previous_until.isoformat()})
    return keys.current


def endpoint_disable(*, endpoint: Endpoint, reason: str, actor, source: str = Source.UI,
                     automatically: bool = False, now: datetime | None = None) -> bool:
    """Stop delivering to ``endpoint``: new facts skip it, waiting deliveries hold under its pause
    switch. False when it already was off."""
    reason = (reason or "").strip()
    if not reason:
        raise WebhookError("Say why you are switching it off, so the team knows when to switch it on again.")
    now = now or timezone.now()
    with transaction.atomic():
        if not Endpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
                enabled=False, disabled_reason=reason[:300], disabled_at=now, disabled_automatically=automatically,
                updated_at=now):
            return False
        SystemState.objects.update_or_create(system=endpoint.system, defaults={
            "paused": True, "paused_reason": f"Endpoint disabled: {reason}"[:300], "paused_at": now,
            "paused_by": actor if getattr(actor, "is_authenticated", False) else None})
        audit_record(action="webhooks.endpoint_disable", source=source, actor=actor, target=endpoint,
                     summary=f"Endpoint {endpoint.url_host()} disabled: {reason}"[:300],
                     changes={"enabled": [True, False], "reason": reason[:300], "automatically": automatically})
    return True


def endpoint_enable(*, endpoint: Endpoint, actor, source: str = Source.UI) -> bool:
    """Deliver again: the deliveries that waited go now. False when it already was on."""
    now = timezone.now()
    with transaction.atomic():
        if not Endpoint.objects.filter(pk=endpoint.pk, enabled=False).update(
                enabled=True, disabled_reason="", disabled_at=None, disabled_automatically=False,
                failing_since=None, updated_at=now):
            return False
        SystemState.objects.filter(system=endpoint.system).update(
            paused=False, paused_reason="", paused_at=None, paused_by=None, breaker_open_until=None,
            consecutive_failures=0, failing_since=None)
        audit_record(action="webhooks.endpoint_enable", source=source, actor=actor, target=endpoint,
                     summary=f"Endpoint {endpoint.url_host()} enabled", changes={"enabled": [False, True]})
        due = SyncJob.objects.due(now).filter(system=endpoint.system).order_by("next_attempt_at")
        jobs_enqueue_on_commit(job_ids=list(due.values_list("pk", flat=True)[: settings.SYNC_SWEEP_BATCH]))
    return True


def endpoint_send_test(*, endpoint: Endpoint, actor, source: str = Source.UI) -> SyncJob:
    """Deliver a ``switchboard.test`` event (a test notice to Slack) through the outbox."""
    if not endpoint.enabled:
        raise WebhookError("Switch the endpoint on before sending it a test.")
    now = timezone.now()
    with transaction.atomic():
        job = test_delivery(endpoint=endpoint, now=now, nonce=secrets.token_hex(8))
        audit_record(action="webhooks.endpoint_test", source=source, actor=actor, target=endpoint,
                     summary=f"Test event sent to {endpoint.url_host()}", changes={"job": job.pk})
    return job


def delivery_resend(*, endpoint: Endpoint, job: SyncJob, actor, source: str = Source.UI) -> SyncJob:
    """Send an earlier delivery again, as a new job with the same body and ``webhook-id``; a dead one is
    set aside, noting the job that resends it."""
    if job.system != endpoint.system:
        raise WebhookError("That delivery is not this endpoint's.")
    if not endpoint.enabled:
        raise WebhookError("Switch the endpoint on before resending to it.")
    if job.status not in (JobStatus.SUCCEEDED, JobStatus.DEAD, JobStatus.SET_ASIDE):
        raise WebhookError("That delivery is still being tried: wait for it to finish.")
    with transaction.atomic():
        resent = fact_resend(endpoint=endpoint, job=job, now=timezone.now())
        if job.status == JobStatus.DEAD:  # superseded: out of the dead-job alert, its note says by what
            job_set_aside(job=job, actor=actor, note=f"Resent as job #{resent.pk}", source=source)
        audit_record(action="webhooks.delivery_resend", source=source, actor=actor, target=endpoint,
                     customer=job.customer, summary=f"Delivery {job.payload.get('message_id', '')} resent to "
                                                    f"{endpoint.url_host()}",
                     changes={"job": job.pk, "resent_as": resent.pk})
    return resent


def delivery_set_aside(*, endpoint: Endpoint, job: SyncJob, note: str, actor, source: str = Source.UI) -> SyncJob:
    """A dead delivery nobody will resend (the receiver never wanted it): out of the dead-job alert."""
    if job.system != endpoint.system:
        raise WebhookError("That delivery is not this endpoint's.")
    try:
        return job_set_aside(job=job, actor=actor, note=note, source=source)
    except SyncError as exc:
        raise WebhookError(str(exc)) from exc


def endpoints_disable_failing(*, now: datetime | None = None) -> list[int]:
    """Switch off every enabled endpoint whose deliveries have all failed for WEBHOOK_FAILING_DAYS;
    its incident opens with the next alert evaluation. Returns the ids switched off."""
    now = now or timezone.now()
    days = settings.WEBHOOK_FAILING_DAYS
    off = []
    for endpoint in Endpoint.objects.filter(enabled=True, failing_since__isnull=False):
        if endpoints.failing_too_long(endpoint.failing_since, now, days) and endpoint_disable(
                endpoint=endpoint, actor=None, source=Source.WORKER, automatically=True, now=now,
                reason=f"every delivery failed for {days} days (since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC)"):
            off.append(endpoint.pk)
    return off
