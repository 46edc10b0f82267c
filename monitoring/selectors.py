"""What the System health screen shows, for the last 24 hours and 7 days."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, F, Max
from django.db.models.functions import TruncHour
from django.utils import timezone

from billing import counters
from billing.models import Drift, EventStatus, StripeEvent
from billing.webhooks import SIGNATURE_REASONS
from monitoring.alerts import percentile, sync_lag_seconds
from monitoring.heartbeats import heartbeat_ages
from monitoring.models import Incident
from monitoring.rules import rule_title
from sync.models import JobStatus, SyncJob, SystemState
from sync.rules import SYNCED_SYSTEMS
from sync.services.drift import tool_drift_health


def processing_delays(*, since: datetime, start: str = "created", limit: int = 5000) -> list[float]:
    """Seconds from Stripe creating an event (``start="created"``: Stripe's own delivery delay included,
    hours or days after an outage or for events replayed from the past) or from its reaching the door
    (``start="received_at"``: the part Switchboard answers for) to our having applied it."""
    rows = (
        StripeEvent.objects.filter(processed_at__gte=since, status=EventStatus.PROCESSED)
        .annotate(delay=F("processed_at") - F(start))
        .values_list("delay", flat=True)[:limit]
    )
    return [max(d.total_seconds(), 0.0) for d in rows if d is not None]


@dataclass
class Window:
    label: str
    received: int
    rejected: int
    signature_failures: int
    processing_failures: int
    processing_p95: float | None
    received_p50: float | None
    received_p95: float | None
    lag_p95: dict[str, float | None] = field(default_factory=dict)


def _window(label: str, hours: int, now: datetime) -> Window:
    since = now - timedelta(hours=hours)
    events = StripeEvent.objects.filter(received_at__gte=since)
    delays = processing_delays(since=since)
    ours = processing_delays(since=since, start="received_at")
    return Window(
        label=label,
        received=events.count(),
        rejected=counters.total("webhook_rejected", hours=hours, now=now),
        signature_failures=sum(counters.total("webhook_rejected", r, hours=hours, now=now) for r in SIGNATURE_REASONS),
        processing_failures=events.filter(status=EventStatus.FAILED).count(),
        processing_p95=percentile(delays, 95),
        received_p50=percentile(ours, 50),
        received_p95=percentile(ours, 95),
        lag_p95={s: percentile(sync_lag_seconds(since=since, system=s), 95) for s in SYNCED_SYSTEMS},
    )


def _titled(incidents) -> list[Incident]:
    rows = list(incidents)
    for incident in rows:
        incident.title = rule_title(incident.rule)
    return rows


def sparkline(values: list[int], *, width: int = 240, height: int = 36) -> str:
    """SVG polyline points for a small chart, drawn on the server."""
    top = max(values) or 1
    step = width / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{height - (v / top) * (height - 2) - 1:.1f}" for i, v in enumerate(values))


def health_overview(*, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    day_ago = now - timedelta(hours=24)
    hourly_received = dict(
        StripeEvent.objects.filter(received_at__gte=day_ago)
        .annotate(hour=TruncHour("received_at"))
        .values_list("hour")
        .annotate(n=Count("id"))
        .values_list("hour", "n")
    )
    hours = [(now - timedelta(hours=h)).replace(minute=0, second=0, microsecond=0) for h in reversed(range(24))]
    received_series = [hourly_received.get(h, 0) for h in hours]
    rejected_series = counters.hourly("webhook_rejected", hours=24, now=now)
    jobs = {(r["system"], r["status"]): r["n"] for r in SyncJob.objects.values("system", "status").annotate(n=Count("id")).order_by()}
    windows = [_window("Last 24 hours", 24, now), _window("Last 7 days", 24 * 7, now)]
    return {
        "windows": windows,
        "received_series": received_series,
        "received_points": sparkline(received_series),
        "rejected_series": rejected_series,
        "rejected_points": sparkline(rejected_series),
        "jobs_by_system": [
            {
                "system": s,
                "counts": [jobs.get((s, status), 0) for status in JobStatus.values],
                "lags": [w.lag_p95[s] for w in windows],
            }
            for s in SYNCED_SYSTEMS
        ],
        "job_statuses": JobStatus.labels,
        "queue_depth": SyncJob.objects.open().count(),
        "dead_jobs": SyncJob.objects.dead().count(),
        "paused": list(SystemState.objects.filter(paused=True).values_list("system", flat=True)),
        "secrets": list(
            StripeEvent.objects.filter(received_at__gte=now - timedelta(days=7), secret_index__isnull=False)
            .values("secret_index")
            .annotate(events=Count("id"), last=Max("received_at"))
            .order_by("secret_index")
        ),
        "heartbeats": heartbeat_ages(now),
        "incidents": _titled(Incident.objects.filter(resolved_at__isnull=True)),
        "recent_incidents": _titled(Incident.objects.filter(resolved_at__isnull=False).order_by("-resolved_at")[:10]),
        "set_aside_jobs": SyncJob.objects.filter(status=JobStatus.SET_ASIDE).count(),
        "drift": list(Drift.objects.open().select_related("customer")[:50]),
        "tool_drift": tool_drift_health(),
        "now": now,
    }
