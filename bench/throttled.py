"""Part 5, a throttled tool: Kit held to its published limit (120 requests a minute) while a few
hundred of its jobs wait and Stripe events keep arriving.

Workers as the Procfile runs them: one worker for outbound jobs (2 processes, every queue) and
one for events only (2 processes). Measured: how long events wait (received -> processed), how many
wake-ups the workers run per call to a tool (from the wake-up counter the workers export), and
how many messages Redis holds over time, beside how much work is waiting in the database.
"""

import threading
import time
from dataclasses import dataclass

from bench import pipeline
from bench.report import Section
from bench.stack import Stack
from bench.stats import percentiles

KIT_SYSTEM = "email"


@dataclass
class Config:
    backlog: int  # events sent first to build the backlog: each leaves three Kit jobs waiting
    backlog_rate: int  # events per second while building the backlog
    rate: float  # events per second afterwards, measured
    seconds: int  # how long events keep arriving after the backlog
    kit_per_minute: int = 120  # Kit's published limit
    sample_every: float = 1.0


FULL = Config(backlog=100, backlog_rate=20, rate=2, seconds=120)
QUICK = Config(backlog=10, backlog_rate=10, rate=2, seconds=6)


class Sampler(threading.Thread):
    """Every ``every`` seconds: messages in Redis (the three queue lists, and the wake-ups workers
    hold unacknowledged: countdowns waiting for their time) beside the work waiting in the database."""

    def __init__(self, redis_url: str, prefix: str, every: float) -> None:
        super().__init__(daemon=True)
        import redis

        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5)
        self.prefix, self.every = prefix, every
        self.samples: list[dict] = []
        self.stopping = threading.Event()
        self.started_at = time.monotonic()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stopping.wait(self.every):
                self.samples.append(self.sample())
        finally:
            connection.close()

    def sample(self) -> dict:
        from billing.models import EventStatus, StripeEvent
        from sync.models import SyncJob

        pipe = self.redis.pipeline(transaction=False)
        for name in ("events", "sync", "celery"):
            pipe.llen(name)
        pipe.hlen("unacked")
        events_list, jobs_list, periodic_list, unacked = pipe.execute()
        return {
            "t": time.monotonic() - self.started_at,
            "events_list": events_list, "jobs_list": jobs_list, "periodic_list": periodic_list, "unacked": unacked,
            "events_waiting": StripeEvent.objects.filter(stripe_id__startswith=f"evt_{self.prefix}", status__in=[
                EventStatus.RECEIVED, EventStatus.FAILED]).count(),
            "kit_waiting": SyncJob.objects.open().filter(system=KIT_SYSTEM).count(),
        }

    def stop(self) -> list[dict]:
        self.stopping.set()
        self.join(30)
        return self.samples


def event_latencies(prefix: str, since=None) -> tuple[list[float], int]:
    """received -> processed of every processed event of this run (received after ``since``), and
    how many are still waiting."""
    from billing.models import StripeEvent

    events = StripeEvent.objects.filter(stripe_id__startswith=f"evt_{prefix}")
    if since is not None:
        events = events.filter(received_at__gte=since)
    rows = list(events.values_list("received_at", "processed_at"))
    return [(p - r).total_seconds() for r, p in rows if p], sum(1 for _, p in rows if not p)


def run(stack: Stack, cfg: Config, section: Section) -> None:
    from django.utils import timezone

    from sync.models import JobStatus, SyncJob

    stack.start_web()
    stack.start_beat()
    stack.redis.flush()
    prefix = "benchthrottle"
    kit = {"KIT_RATE_LIMIT_PER_MINUTE": str(cfg.kit_per_minute)}
    payloads = pipeline.bodies(prefix, pipeline.seed_customers(prefix, cfg.backlog + int(cfg.rate * cfg.seconds)))
    backlog, steady = payloads[:cfg.backlog], payloads[cfg.backlog:]
    layout = pipeline.PROCFILE
    workers = [stack.start_worker(layout.jobs, env=kit), stack.start_worker(layout.events, queues="events", env=kit)]
    before = pipeline.wakeups()
    sampler = Sampler(stack.redis.url, prefix, cfg.sample_every)
    sampler.start()
    url = stack.url + "/webhooks/stripe/"
    try:
        statuses = pipeline.send_at_rate(url, backlog, cfg.backlog_rate, time.monotonic() + 120, stack.secret)
        # The backlog is of Kit jobs: once its events are applied, events arrive steadily and are measured.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and event_latencies(prefix)[1]:
            time.sleep(0.5)
        kit_at_start = SyncJob.objects.open().filter(system=KIT_SYSTEM).count()
        steady_from = timezone.now()
        for code, n in pipeline.send_at_rate(url, steady, cfg.rate, time.monotonic() + cfg.seconds + 30,
                                             stack.secret).items():
            statuses[code] = statuses.get(code, 0) + n
        deadline = time.monotonic() + 15  # the last events' own processing
        while time.monotonic() < deadline and event_latencies(prefix)[1]:
            time.sleep(0.5)
        samples = sampler.stop()
        after = pipeline.wakeups()
        all_latency, waiting = event_latencies(prefix)
        steady_latency, _ = event_latencies(prefix, since=steady_from)
        kit_jobs = SyncJob.objects.filter(system=KIT_SYSTEM, source_event__stripe_id__startswith=f"evt_{prefix}")
        kit_written, kit_done = kit_jobs.count(), kit_jobs.filter(status=JobStatus.SUCCEEDED).count()
        kit_open = kit_jobs.open().count()
    finally:
        sampler.stopping.set()
        for worker in workers:
            worker.stop()
        pipeline.settle(prefix)
        stack.redis.flush()

    delta = pipeline.wakeups_between(before, after)
    kit_wakeups = sum(v for (s, _), v in delta.items() if s == KIT_SYSTEM)
    kit_runs = sum(v for (s, o), v in delta.items() if s == KIT_SYSTEM and o in pipeline.RAN)
    all_wakeups, all_runs = sum(delta.values()), sum(v for (_, o), v in delta.items() if o in pipeline.RAN)
    by_outcome = {o: int(sum(v for (s, oo), v in delta.items() if s == KIT_SYSTEM and oo == o))
                  for o in sorted({o for _, o in delta})}
    sent_ok = sum(n for code, n in statuses.items() if 200 <= code < 300)

    section.note(f"Kit limited to {cfg.kit_per_minute} requests a minute (an add_tag job makes 3: "
                 f"{cfg.kit_per_minute // 3} jobs a minute); the other fakes unlimited. {cfg.backlog} events at "
                 f"{cfg.backlog_rate}/s build the backlog and are applied, then {cfg.rate:g} events/s for {cfg.seconds} s are "
                 f"measured; each event "
                 f"is a trialling customer's subscription starting (CRM, support, community and Kit jobs). "
                 f"Workers as the Procfile runs them: {pipeline.PROCFILE.label} (`worker` takes every queue)")
    section.row("events", "sent 2xx / processed / still waiting", (sent_ok, len(all_latency), waiting),
                met=sent_ok == len(payloads) and waiting == 0)
    section.row("events while Kit is throttled", "received -> processed p50 / p95 / p99 s",
                percentiles(steady_latency), target="p95 < 1 s",
                met=bool(steady_latency) and waiting == 0 and percentiles(steady_latency)[1] < 1.0)
    section.row("events, backlog included", "received -> processed p50 / p95 / p99 s", percentiles(all_latency))
    section.row("Kit jobs", "waiting when the measured events began", kit_at_start)
    section.row("Kit jobs", "written / confirmed / still waiting (at the tool's pace)", (kit_written, kit_done, kit_open))
    section.row("Kit jobs", "wake-ups per call to the tool", kit_wakeups / kit_runs if kit_runs else float("nan"),
                target="< 1.5", met=bool(kit_runs) and kit_wakeups / kit_runs < 1.5)
    section.row("Kit jobs", "wake-ups by outcome", ", ".join(f"{o} {n:,}" for o, n in by_outcome.items() if n))
    section.row("every system", "wake-ups per call to a tool", all_wakeups / all_runs if all_runs else float("nan"))
    if samples:
        peak = {k: max(s[k] for s in samples) for k in samples[0] if k != "t"}
        section.row("Redis", "most messages in the events / jobs list", (peak["events_list"], peak["jobs_list"]))
        section.row("Redis", "most wake-ups held by workers (countdowns, unacknowledged)", peak["unacked"])
        section.row("database", "most events / Kit jobs waiting", (peak["events_waiting"], peak["kit_waiting"]))
        step = max(1, len(samples) // 12)
        section.note("over time (s: events list, jobs list, held by workers | events waiting, Kit jobs waiting): " +
                     "; ".join(f"{s['t']:.0f}: {s['events_list']}, {s['jobs_list']}, {s['unacked']} | "
                               f"{s['events_waiting']}, {s['kit_waiting']}" for s in samples[::step]))
