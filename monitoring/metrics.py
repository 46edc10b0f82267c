"""The same numbers as the health screen, in Prometheus' text format."""

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from billing import counters
from billing.webhooks import REJECT_REASONS
from billing.models import StripeEvent
from monitoring.heartbeats import heartbeat_ages
from monitoring.models import Drift, Incident
from monitoring.selectors import processing_delays
from monitoring.alerts import sync_lag_seconds
from sync.models import SyncJob, SystemState
from sync.rules import SYNCED_SYSTEMS

BUCKETS = [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600]


def _histogram(name: str, doc: str, samples: dict[str, list[float]], label: str) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=[label] if label else None)
    for key, values in samples.items():
        buckets = [(str(b), sum(1 for v in values if v <= b)) for b in BUCKETS] + [("+Inf", len(values))]
        family.add_metric([key] if label else [], buckets, sum(values))
    return family


class SwitchboardCollector(Collector):
    def collect(self):
        events = CounterMetricFamily(
            "switchboard_stripe_events", "Stripe events stored, by processing status", labels=["status"]
        )
        for row in StripeEvent.objects.values("status").annotate(n=Count("id")).order_by():
            events.add_metric([row["status"]], row["n"])
        yield events

        rejected = GaugeMetricFamily("switchboard_webhooks_rejected_24h", "Webhook requests refused in the last 24 hours", labels=["reason"])
        for reason in REJECT_REASONS:
            rejected.add_metric([reason], counters.total("webhook_rejected", reason))
        yield rejected

        jobs = GaugeMetricFamily("switchboard_sync_jobs", "Outbound jobs by system and status", labels=["system", "status"])
        for row in SyncJob.objects.values("system", "status").annotate(n=Count("id")).order_by():
            jobs.add_metric([row["system"], row["status"]], row["n"])
        yield jobs

        paused = GaugeMetricFamily("switchboard_system_paused", "1 when automation for a system is paused", labels=["system"])
        for system, is_paused in SystemState.objects.values_list("system", "paused"):
            paused.add_metric([system], int(is_paused))
        yield paused

        since = timezone.now() - timedelta(hours=1)
        yield _histogram("switchboard_event_processing_seconds", "Stripe event created -> processed (last hour)",
                         {"": processing_delays(since=since)}, "")
        lags = {system: sync_lag_seconds(since=since, system=system) for system in SYNCED_SYSTEMS}
        yield _histogram("switchboard_sync_lag_seconds", "Event received -> provider confirmed (last hour)", lags, "system")

        beats = GaugeMetricFamily("switchboard_heartbeat_age_seconds", "Seconds since a background process showed life", labels=["process"])
        for process, age in heartbeat_ages().items():
            beats.add_metric([process], age if age is not None else float("inf"))
        yield beats

        yield GaugeMetricFamily("switchboard_incidents_open", "Open alert incidents", value=Incident.objects.filter(resolved_at__isnull=True).count())
        yield GaugeMetricFamily("switchboard_stripe_drift_open", "Open differences with Stripe", value=Drift.objects.open().count())
