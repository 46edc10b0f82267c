"""Prometheus counters the executor observes as it runs jobs (added up across processes by /metrics)."""

from prometheus_client import Counter, Histogram

from sync.rules import SYNCED_SYSTEMS

ATTEMPT_OUTCOMES = ("ok", "transient", "permanent")

job_attempts = Counter(
    "switchboard_sync_job_attempts", "Calls to an outside tool, by system and result (ok/transient/permanent)",
    ["system", "outcome"],
)
# Every wake-up a worker acts on, by what it found: a throttled backlog shows here as rate_limited
# and not_due wake-ups, one "ran" outcome (succeeded, retrying, dead) per call to the tool.
job_wakeups = Counter(
    "switchboard_sync_job_wakeups", "Job wake-ups run by a worker, by system and outcome (succeeded, rate_limited...)",
    ["system", "outcome"],
)
job_latency_seconds = Histogram(
    "switchboard_sync_job_latency_seconds", "Outbound job written -> confirmed by the tool", ["system"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600),
)

for _system in SYNCED_SYSTEMS:  # every series exists from the start, at 0
    job_latency_seconds.labels(_system)
    for _outcome in ATTEMPT_OUTCOMES:
        job_attempts.labels(_system, _outcome)
