"""Alert rules, incidents and their notifications.

A rule that fires opens one incident and sends one message; when it stops firing the
incident resolves with one more message. A rule that fires again within the quiet
period reopens the same incident silently. Messages go straight out by email and/or a
Slack-compatible webhook: never through the job queue or any system being watched.
"""

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from billing import counters
from billing.models import EventStatus, StripeEvent
from monitoring.heartbeats import heartbeats_stale
from monitoring.models import Drift, Incident
from sync.models import JobStatus, SyncJob

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Finding:
    rule: str
    firing: bool
    summary: str = ""
    link: str = ""


def _path(name: str, query: str = "") -> str:
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return "/"


def rule_webhook_failures(now: datetime) -> Finding:
    window = settings.ALERT_FAILURE_WINDOW_MINUTES
    since = now - timedelta(minutes=window)
    received = StripeEvent.objects.filter(received_at__gte=since).count()
    failed = StripeEvent.objects.filter(received_at__gte=since, status=EventStatus.FAILED).count()
    rejected = counters.total_minutes("webhook_rejected", minutes=window, now=now)
    bad = failed + rejected
    rate = bad / max(received + rejected, 1)
    firing = bad > 0 and rate > settings.ALERT_FAILURE_RATE
    summary = f"{bad} of {received + rejected} webhooks rejected or failed in {window} min ({rate:.0%})"
    return Finding("webhook_failures", firing, summary, _path("event_list", "?status=failed"))


def rule_dead_jobs(now: datetime) -> Finding:
    dead = SyncJob.objects.filter(status=JobStatus.DEAD).count()
    return Finding("dead_jobs", dead > 0, f"{dead} outbound job(s) dead", _path("job_list", "?status=dead"))


def sync_lag_seconds(*, since: datetime, system: str | None = None, limit: int = 5000) -> list[float]:
    """Seconds from Stripe event received to provider confirmed, for jobs finished since ``since``."""
    jobs = SyncJob.objects.filter(
        status=JobStatus.SUCCEEDED, finished_at__gte=since, source_event__isnull=False
    )
    if system:
        jobs = jobs.filter(system=system)
    lags = jobs.annotate(lag=F("finished_at") - F("source_event__received_at")).values_list("lag", flat=True)[:limit]
    return [lag.total_seconds() for lag in lags if lag is not None]


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def rule_sync_lag(now: datetime) -> Finding:
    lags = sync_lag_seconds(since=now - timedelta(minutes=settings.ALERT_FAILURE_WINDOW_MINUTES))
    p95 = percentile(lags, 95)
    firing = p95 is not None and p95 > settings.ALERT_SYNC_LAG_P95_SECONDS
    summary = f"Sync lag p95 is {p95:.0f} s" if p95 is not None else "No recent sync lag"
    return Finding("sync_lag", firing, summary, _path("system_list"))


def rule_no_webhook(now: datetime) -> Finding:
    minutes = settings.ALERT_NO_WEBHOOK_MINUTES
    last = StripeEvent.objects.order_by("-received_at").values_list("received_at", flat=True).first()
    if not minutes or last is None:  # off, or Stripe not connected yet
        return Finding("no_webhook", False)
    quiet = now - last
    firing = quiet > timedelta(minutes=minutes)
    return Finding("no_webhook", firing, f"No Stripe webhook for {int(quiet.total_seconds() // 60)} min", _path("event_list"))


def rule_heartbeats(now: datetime) -> Finding:
    stale = heartbeats_stale(now)
    summary = f"No heartbeat from the {' and the '.join(stale)}" if stale else ""
    return Finding("heartbeat", bool(stale), summary, _path("system_health"))


def rule_drift(now: datetime) -> Finding:
    drift = Drift.objects.open().count()
    return Finding("stripe_drift", drift > 0, f"{drift} difference(s) between Stripe and Switchboard", _path("system_health"))


RULES = [rule_webhook_failures, rule_dead_jobs, rule_sync_lag, rule_no_webhook, rule_heartbeats, rule_drift]


def alerts_evaluate(*, now: datetime | None = None) -> list[Incident]:
    """Run every rule; open, reopen or resolve incidents; send what has not been sent. Returns open incidents."""
    now = now or timezone.now()
    for rule in RULES:
        finding = rule(now)
        with transaction.atomic():
            _apply(finding, now)
    _deliver_pending()
    return list(Incident.objects.filter(resolved_at__isnull=True))


def _apply(finding: Finding, now: datetime) -> None:
    current = Incident.objects.select_for_update().filter(rule=finding.rule, resolved_at__isnull=True).first()
    if finding.firing and current is None:
        quiet_since = now - timedelta(minutes=settings.ALERT_QUIET_MINUTES)
        recent = (
            Incident.objects.select_for_update()
            .filter(rule=finding.rule, resolved_at__gte=quiet_since)
            .order_by("-resolved_at")
            .first()
        )
        if recent is not None:  # flapping: reopen quietly, the people already know
            recent.resolved_at = None
            recent.summary = finding.summary[:300]
            recent.save(update_fields=["resolved_at", "summary", "updated_at"])
        else:
            Incident.objects.create(rule=finding.rule, summary=finding.summary[:300], link=finding.link, opened_at=now)
    elif finding.firing and current is not None and current.summary != finding.summary:
        current.summary = finding.summary[:300]
        current.save(update_fields=["summary", "updated_at"])
    elif not finding.firing and current is not None:
        current.resolved_at = now
        current.save(update_fields=["resolved_at", "updated_at"])


def _deliver_pending() -> None:
    for incident in Incident.objects.filter(notified_open=False):
        if _send(incident, opened=True):
            Incident.objects.filter(pk=incident.pk).update(notified_open=True)
    for incident in Incident.objects.filter(resolved_at__isnull=False, notified_open=True, notified_resolved=False):
        if _send(incident, opened=False):
            Incident.objects.filter(pk=incident.pk).update(notified_resolved=True)


def _send(incident: Incident, *, opened: bool) -> bool:
    """True when every configured channel accepted the message (or none is configured)."""
    state = "Incident opened" if opened else "Resolved"
    text = f"[Switchboard] {state}: {incident.summary}\n{settings.SITE_URL}{incident.link}"
    delivered = True
    if settings.ALERT_EMAILS:
        try:
            send_mail(f"[Switchboard] {state}: {incident.rule}", text, None, settings.ALERT_EMAILS)
        except Exception as exc:  # noqa: BLE001 - retried on the next evaluation
            log.warning("alert.email_failed", rule=incident.rule, error=type(exc).__name__)
            delivered = False
    if settings.ALERT_SLACK_WEBHOOK_URL:
        try:
            response = requests.post(settings.ALERT_SLACK_WEBHOOK_URL, json={"text": text}, timeout=5)
            response.raise_for_status()
        except requests.RequestException as exc:
            log.warning("alert.webhook_failed", rule=incident.rule, error=type(exc).__name__)
            delivered = False
    return delivered
