"""Prometheus counters the webhook door and event processing observe as they work.

In multiprocess mode (config/metrics_dir.py) an increment is a write to a memory-mapped file:
no network, so the door keeps counting while Redis is down. ``/metrics`` adds up every process.
"""

from prometheus_client import Counter, Histogram

# Every answer the door gives: stored, duplicate, unavailable (503) or one of REJECT_REASONS.
webhook_requests = Counter(
    "switchboard_webhook_requests", "Stripe webhook deliveries by the door's answer", ["outcome"]
)
events_processed = Counter(
    "switchboard_events_processed", "Stripe events processed by the worker, by result", ["outcome"]
)
event_processing_seconds = Histogram(
    "switchboard_event_processing_seconds", "Time the worker spent applying one Stripe event",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
event_delay_seconds = Histogram(
    "switchboard_event_delay_seconds", "Stripe event received by the door -> applied by the worker",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)

for _outcome in ("processed", "ignored", "failed"):
    events_processed.labels(_outcome)  # every series exists from the start, at 0
