"""What ``/metrics`` exports, in Prometheus' text format.

Two kinds of numbers:
- counters and histograms observed where the work happens (the door, event processing, the
  executor, sign-ins), kept by prometheus-client in multiprocess mode: every gunicorn worker and
  Celery process writes its own file and a scrape adds them up;
- gauges read from the database at scrape time (queue depth, oldest due job, breakers,
  heartbeats), each one indexed query on unfinished work, so a scrape costs the same whether
  the tables hold a thousand rows or a million.
"""

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from billing import metrics as billing_metrics
from billing.models import Drift, EventStatus, StripeEvent
from monitoring.heartbeats import heartbeat_ages
from monitoring.models import Incident
from monitoring.signins import signins
from sync import metrics as sync_metrics
from sync.models import OPEN_JOB_STATUSES, DriftKind, SyncJob, SystemState, ToolDrift
from sync.rules import SYNCED_SYSTEMS

WAITING_EVENT_STATUSES = (EventStatus.RECEIVED, EventStatus.FAILED)


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


class DatabaseCollector(Collector):
    """Gauges read at scrape time. Each query reads unfinished rows through a status index."""

    def collect(self):
        now = timezone.now()
        yield from self._jobs(now)
        yield from self._events(now)
        yield from self._systems(now)

        beats = _gauge("switchboard_heartbeat_age_seconds", "Seconds since a background process showed life",
                       ["process"])
        for process, age in heartbeat_ages(now).items():
            beats.add_metric([process], age if age is not None else float("inf"))
        yield beats
        yield GaugeMetricFamily("switchboard_incidents_open", "Open alert incidents",
                                value=Incident.objects.filter(resolved_at__isnull=True).count())
        yield GaugeMetricFamily("switchboard_stripe_drift_open", "Open differences with Stripe",
                                value=Drift.objects.open().count())
        yield self._tool_drift()

    def _tool_drift(self):
        # Open differences only, through their partial index (resolved_at IS NULL).
        counts = {(r["system"], r["kind"]): r["n"] for r in
                  ToolDrift.objects.filter(resolved_at__isnull=True).values("system", "kind")
                  .annotate(n=Count("id")).order_by()}
        gauge = _gauge("switchboard_tool_drift_open", "Open differences between an outside tool and billing",
                       ["system", "kind"])
        for system in SYNCED_SYSTEMS:
            for kind in DriftKind.values:
                gauge.add_metric([system, kind], counts.get((system, kind), 0))
        return gauge

    def _jobs(self, now):
        # GROUP BY over unfinished jobs only (status index): succeeded jobs are never read.
        counts = {(r["system"], r["status"]): r["n"] for r in
                  SyncJob.objects.open().values("system", "status")
                  .annotate(n=Count("id")).order_by()}
        open_jobs = _gauge("switchboard_sync_jobs_open", "Outbound jobs not finished yet", ["system", "status"])
        for system in SYNCED_SYSTEMS:
            for status in OPEN_JOB_STATUSES:
                open_jobs.add_metric([system, status], counts.get((system, status), 0))
        yield open_jobs

        dead = dict(SyncJob.objects.dead().values("system").annotate(n=Count("id")).values_list("system", "n")
                    .order_by())
        dead_jobs = _gauge("switchboard_sync_jobs_dead", "Outbound jobs that gave up (they wait for a person)",
                           ["system"])
        for system in SYNCED_SYSTEMS:
            dead_jobs.add_metric([system], dead.get(system, 0))
        yield dead_jobs

        oldest = dict(SyncJob.objects.due(now).values("system").annotate(at=Min("next_attempt_at"))
                      .values_list("system", "at").order_by())
        due = _gauge("switchboard_sync_oldest_due_job_age_seconds",
                     "How long the oldest job that is due has been waiting (0: none waits)", ["system"])
        for system in SYNCED_SYSTEMS:
            at = oldest.get(system)
            due.add_metric([system], max((now - at).total_seconds(), 0.0) if at else 0.0)
        yield due

    def _events(self, now):
        waiting = dict(StripeEvent.objects.filter(status__in=WAITING_EVENT_STATUSES).values("status")
                       .annotate(n=Count("id")).values_list("status", "n").order_by())
        events = _gauge("switchboard_stripe_events_waiting",
                        "Stored Stripe events not applied yet: received, or failed and waiting", ["status"])
        for status in WAITING_EVENT_STATUSES:
            events.add_metric([status], waiting.get(status, 0))
        yield events

        oldest = (StripeEvent.objects.filter(status=EventStatus.RECEIVED).order_by("received_at")
                  .values_list("received_at", flat=True).first())
        yield GaugeMetricFamily("switchboard_stripe_oldest_received_event_age_seconds",
                                "How long the oldest stored, not yet processed event has waited (0: none)",
                                value=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)

        # The newest delivery of any status: one short index scan per status, not a table scan.
        latest = [StripeEvent.objects.filter(status=status).order_by("-received_at")
                  .values_list("received_at", flat=True).first() for status in EventStatus.values]
        latest = [at for at in latest if at is not None]
        last = GaugeMetricFamily("switchboard_stripe_last_event_received_timestamp_seconds",
                                 "Unix time of the newest stored Stripe delivery (absent: none yet)", labels=[])
        if latest:
            last.add_metric([], max(latest).timestamp())
        yield last

    def _systems(self, now):
        states = {s.system: s for s in SystemState.objects.all()}
        paused = _gauge("switchboard_system_paused", "1 when automation for a system is paused", ["system"])
        held = _gauge("switchboard_system_held", "1 while a system's breaker holds its jobs back", ["system"])
        failures = _gauge("switchboard_system_consecutive_failures",
                          "Outages or refused credentials in a row (0: the last call worked)", ["system"])
        everything = states.get(SystemState.ALL)
        for system in SYNCED_SYSTEMS:
            state = states.get(system)
            paused.add_metric([system], int(bool((state and state.paused) or (everything and everything.paused))))
            held.add_metric([system], int(bool(state and state.breaker_open_until and state.breaker_open_until > now)))
            failures.add_metric([system], state.consecutive_failures if state else 0)
        yield from (paused, held, failures)


def scrape() -> bytes:
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


# Every metric family /metrics can export; the alert-rule and dashboard tests check against it.
OBSERVED = (
    billing_metrics.webhook_requests, billing_metrics.events_processed, billing_metrics.event_processing_seconds,
    billing_metrics.event_delay_seconds, sync_metrics.job_attempts, sync_metrics.job_latency_seconds, signins,
    sync_metrics.job_wakeups,
)


def exported_samples() -> set[str]:
    """Sample names as they appear in a scrape (``..._total``, ``..._bucket``...)."""
    names = set()
    for metric in OBSERVED:
        for family in metric.collect():
            suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}[family.type]
            names.update(family.name + suffix for suffix in suffixes)
    for family in DatabaseCollector().collect():
        names.add(family.name)
    return names
