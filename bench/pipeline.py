"""Part 2, the pipeline: events at a fixed rate through the door, processing, and outbound jobs to
the loopback fakes; latency from "event received" to "provider confirmed", for several layouts of
the Procfile's two workers (prefork processes of the jobs worker and of the events worker).
"""

import os
import threading
import time
from dataclasses import dataclass, replace

import requests

from bench import infra
from bench.report import Section, at_least, fmt
from bench.stack import Stack
from bench.stats import percentiles
from demo import stripe_events as se


@dataclass(frozen=True)
class Layout:
    jobs: int  # prefork processes of the `worker` line (outbound jobs, every queue)
    events: int  # prefork processes of the `events` line

    @property
    def label(self) -> str:
        return f"{self.jobs} job + {self.events} events process{'es' if self.events > 1 else ''}"


# The Procfile's defaults (WORKER_CONCURRENCY, EVENTS_CONCURRENCY).
PROCFILE = Layout(jobs=1, events=2)


@dataclass
class Config:
    rate: int  # events per second
    seconds: int
    drain_seconds: int  # how long to wait for the backlog after the last event
    layouts: tuple[Layout, ...] = (Layout(2, 1), Layout(2, 2), PROCFILE)
    # Higher rates tried, as long as, with the layout that did best at ``rate``, p95 stays under 1 s.
    # Steps of 10: the figure reported moves with a gain of a sixth, not only with one of a quarter.
    ramp: tuple[int, ...] = (60, 70, 80, 90, 100)


FULL = Config(rate=50, seconds=60, drain_seconds=45)
QUICK = Config(rate=5, seconds=2, drain_seconds=15, layouts=(PROCFILE,), ramp=())
TARGET_SECONDS = 1.0


def seed_customers(prefix: str, count: int) -> list[str]:
    """Customers that exist before their subscription starts (email known, trialling)."""
    from customers.models import Customer, CustomerStatus, ExternalLink, System

    customers = Customer.objects.bulk_create(
        [Customer(email=f"{prefix}{i}@example.com", name=f"Pipeline {i}", status=CustomerStatus.TRIAL)
         for i in range(count)], batch_size=1000)
    stripe_ids = [f"cus_{prefix}{i:07d}" for i in range(count)]
    ExternalLink.objects.bulk_create(
        [ExternalLink(customer=c, system=System.STRIPE, external_id=s) for c, s in zip(customers, stripe_ids)],
        batch_size=1000)
    return stripe_ids


def bodies(prefix: str, stripe_ids: list[str]) -> list[bytes]:
    """Subscriptions starting, one per customer, in the shapes of each API version in turn."""
    now, out = int(time.time()), []
    for i, stripe_id in enumerate(stripe_ids):
        version = se.API_VERSIONS[i % len(se.API_VERSIONS)]
        sub = se.subscription(f"sub_{prefix}{i:07d}", stripe_id, created=now, api_version=version)
        out.append(se.body(se.event("customer.subscription.created", sub, event_id=f"evt_{prefix}{i:07d}",
                                    created=now, api_version=version)))
    return out


def send_at_rate(url: str, payloads: list[bytes], rate: int, deadline: float, secret: str) -> dict[int, int]:
    """Open-loop sender: event i leaves at start + i/rate, from a few threads; returns status counts."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    next_index = iter(range(len(payloads)))
    start = time.monotonic() + 0.2

    def worker() -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            try:
                code = session.post(url, data=payloads[i], timeout=10, headers={
                    "Content-Type": "application/json", "Stripe-Signature": se.sign(payloads[i], secret)}).status_code
            except requests.RequestException:
                code = 0
            with lock:
                statuses[code] = statuses.get(code, 0) + 1

    # Enough senders that a slow door (or a busy machine) does not lower the offered rate.
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()) + 15)
    return statuses


def open_work(prefix: str) -> tuple[int, int]:
    from billing.models import EventStatus, StripeEvent
    from sync.models import SyncJob

    events = StripeEvent.objects.filter(stripe_id__startswith=f"evt_{prefix}").exclude(
        status__in=[EventStatus.PROCESSED, EventStatus.IGNORED]).count()
    jobs = SyncJob.objects.filter(source_event__stripe_id__startswith=f"evt_{prefix}").open().count()
    return events, jobs


def measure(prefix: str) -> dict:
    from billing.models import StripeEvent
    from sync.models import JobStatus, SyncJob

    events = list(StripeEvent.objects.filter(stripe_id__startswith=f"evt_{prefix}").values_list(
        "status", "received_at", "processed_at", "pk"))
    jobs = list(SyncJob.objects.filter(source_event__stripe_id__startswith=f"evt_{prefix}").values_list(
        "status", "finished_at", "source_event__received_at", "source_event_id"))
    done = [(f - r).total_seconds() for s, f, r, _ in jobs if s == JobStatus.SUCCEEDED]
    processed = [(p - r).total_seconds() for _, r, p, _ in events if p]
    finished = [f for s, f, _, _ in jobs if s == JobStatus.SUCCEEDED]
    first = min((r for _, r, _, _ in events), default=None)
    span = (max(finished) - first).total_seconds() if finished and first else 0
    last_processed = max((p for _, _, p, _ in events if p), default=None)
    event_span = (last_processed - first).total_seconds() if last_processed and first else 0
    completed, still_open = _completed_event_latencies(events, jobs)
    return {
        "completed": percentiles(completed), "completed_count": len(completed), "open_events": still_open,
        "events": len(events), "processed": len(processed), "jobs": len(jobs), "succeeded": len(done),
        "dead": sum(1 for s, _, _, _ in jobs if s == JobStatus.DEAD),
        "per_event": percentiles(_event_latencies(events, jobs)),
        "latency": percentiles(done), "processing": percentiles(processed),
        "jobs_per_s": len(done) / span if span else 0.0, "span": span,
        "events_per_s": len(processed) / event_span if event_span else 0.0,
    }


def completed_figures(figures: tuple[float, ...], completed: int, still_open: int) -> tuple | str:
    """Percentiles over the completed events: as they are when nothing is open, else lower bounds."""
    if not completed:
        return "no event completed"
    return at_least(figures) if still_open else figures


def _completed_event_latencies(events: list, jobs: list) -> tuple[list[float], int]:
    """Per event whose work is all done (applied, every job confirmed), received -> its last job
    confirmed; and how many events are not done (a dead job leaves its event not done)."""
    from sync.models import JobStatus

    by_event: dict[int, list] = {}
    for status, finished, _, event_id in jobs:
        by_event.setdefault(event_id, []).append(finished if status == JobStatus.SUCCEEDED else None)
    done, still_open = [], 0
    for _, received, processed, pk in events:
        ends = by_event.get(pk, [])
        if not processed or None in ends:
            still_open += 1
        else:
            done.append((max(ends, default=processed) - received).total_seconds())
    return done, still_open


def _event_latencies(events: list, jobs: list) -> list[float]:
    """Per event, received -> its last job confirmed; work still open counts at its age now, so with a
    backlog these are lower bounds over every event, not only the lucky early ones."""
    from django.utils import timezone

    from sync.models import JobStatus

    now = timezone.now()
    by_event: dict[int, list] = {}
    for status, finished, _, event_id in jobs:
        by_event.setdefault(event_id, []).append(finished if status == JobStatus.SUCCEEDED else None)
    out = []
    for _, received, processed, pk in events:
        ends = by_event.get(pk, [None] if not processed else [])
        out.append(((now if None in ends else max(ends, default=processed)) - received).total_seconds())
    return out


def settle(prefix: str) -> None:
    """What a run left unfinished is removed, so neither the next run nor the recovery part
    (which retries every dead job) inherits it."""
    from django.db import connection

    from billing.models import EventStatus, StripeEvent

    # Plain SQL: thousands of ORM deletes would each write an audit entry and take minutes.
    open_jobs = ("SELECT j.id FROM sync_syncjob j JOIN billing_stripeevent e ON e.id = j.source_event_id "
                 "WHERE e.stripe_id LIKE %s AND j.status IN ('pending', 'running', 'retrying')")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM sync_syncattempt WHERE job_id IN ({open_jobs})", [f"evt_{prefix}%"])
        cursor.execute(f"DELETE FROM sync_syncjob WHERE id IN ({open_jobs})", [f"evt_{prefix}%"])
    StripeEvent.objects.filter(stripe_id__startswith=f"evt_{prefix}", status__in=[
        EventStatus.RECEIVED, EventStatus.FAILED]).update(status=EventStatus.IGNORED, next_attempt_at=None)


def run_once(stack: Stack, cfg: Config, layout: Layout, section: Section) -> dict:
    prefix = f"benchpipe{layout.jobs}x{layout.events}x{cfg.rate}r"
    count = cfg.rate * cfg.seconds
    payloads = bodies(prefix, seed_customers(prefix, count))
    worker = stack.start_worker(layout.jobs)
    # As the Procfile runs them: events have a worker of their own (it also watches for new ones).
    events_worker = stack.start_worker(layout.events, queues="events")
    try:
        cpu = infra.CpuMeter(events=events_worker.popen.pid, jobs=worker.popen.pid,
                             postgres=infra.postgres_root(), web=stack.web.popen.pid if stack.web else None)
        with infra.MemoryWatch(jobs=worker, events=events_worker) as memory:
            cpu.start()
            woken = wakeups()
            sending = time.monotonic()
            statuses = send_at_rate(stack.url + "/webhooks/stripe/", payloads, cfg.rate,
                                    time.monotonic() + cfg.seconds + 30, stack.secret)
            sent_in = time.monotonic() - sending
            deadline = time.monotonic() + cfg.drain_seconds
            while time.monotonic() < deadline and any(open_work(prefix)):
                time.sleep(0.5)
            used = cpu.stop()
            woken = wakeup_figures(woken, wakeups())
        result = measure(prefix)
        result["memory"] = memory.peak_mb
        result["cpu"] = cpu_per_event(used, result["processed"])
        result["wakeups"] = woken
        result["left"] = open_work(prefix)
        result["statuses"] = statuses
        result["send_rate"] = sum(statuses.values()) / sent_in if sent_in else 0.0
    finally:
        worker.stop()
        events_worker.stop()
        settle(prefix)
        stack.redis.flush()
        vacuum()
    return result


def wakeups() -> dict[tuple[str, str], float]:
    """The workers' wake-up counter, by (system, outcome), summed over every process of the stack."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ["PROMETHEUS_MULTIPROC_DIR"])
    counts: dict[tuple[str, str], float] = {}
    for family in registry.collect():
        if family.name == "switchboard_sync_job_wakeups":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    key = (sample.labels["system"], sample.labels["outcome"])
                    counts[key] = counts.get(key, 0.0) + sample.value
    return counts


# The outcomes of a wake-up that called the tool; any other is a wake-up that called nothing.
RAN = ("succeeded", "retrying", "dead", "lease_lost")


def wakeups_between(before: dict, after: dict) -> dict[tuple[str, str], float]:
    """The wake-ups counted between two readings of ``wakeups()``, by (system, outcome)."""
    return {key: value - before.get(key, 0.0) for key, value in after.items()}


def wakeup_figures(before: dict, after: dict) -> str:
    """Wake-ups per job run between two readings of ``wakeups()``, with the count of each outcome."""
    by_outcome: dict[str, int] = {}
    for (_, outcome), n in wakeups_between(before, after).items():
        by_outcome[outcome] = by_outcome.get(outcome, 0) + int(n)
    by_outcome = {o: n for o, n in sorted(by_outcome.items()) if n}
    ran = sum(n for o, n in by_outcome.items() if o in RAN)
    if not ran:
        return "no job ran"
    shown = ", ".join(f"{o} {n:,}" for o, n in by_outcome.items())
    return f"{sum(by_outcome.values()) / ran:.2f} ({shown})"


CPU_PARTS = ("events", "jobs", "postgres", "web", "rest")


def cpu_per_event(used: dict[str, float], processed: int) -> dict:
    """Milliseconds of CPU per processed event for each part the meter read (a part it could not
    read is left out), and how busy the machine's cores were from the first event to the drain's end."""
    per_event = {name: used[name] * 1000 / processed for name in CPU_PARTS if name in used and processed}
    busy = used["machine"] / (used["seconds"] * (os.cpu_count() or 1)) if used.get("seconds") else 0.0
    return {"per_event": per_event, "busy": busy}


def cpu_figures(cpu: dict) -> str:
    parts = cpu["per_event"]
    if not parts:
        return "no event processed"
    named = {"events": "events worker", "jobs": "jobs worker", "postgres": "PostgreSQL", "web": "gunicorn",
             "rest": "the rest"}
    shown = ", ".join(f"{named[name]} {fmt(parts[name])}" for name in CPU_PARTS if name in parts)
    return f"{fmt(sum(parts.values()))} ms ({shown}); cores {cpu['busy']:.0%} busy"


def vacuum() -> None:
    """What a run wrote is vacuumed and analysed before the next run starts, so that autovacuum's
    catching up on it (CPU and I/O, minutes later) does not land in the next layout's figures."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def run(stack: Stack, cfg: Config, section: Section) -> None:
    stack.start_web()
    stack.start_beat()
    section.note(f"{cfg.rate} events/s for {cfg.seconds} s per run (customer.subscription.created in the shapes "
                 f"of {len(se.API_VERSIONS)} API versions, each for a trialling customer: every event causes CRM, support, community and email "
                 f"jobs); drain allowed {cfg.drain_seconds} s after the last event; per layout one celery worker for "
                 f"jobs and one for events (the Procfile's `worker` and `events`) with N prefork processes each, one "
                 f"beat; fakes answer on loopback; the Procfile's defaults are {PROCFILE.label}")
    results = {}
    first = cfg.layouts[0]
    for layout in cfg.layouts:
        r = results[layout] = run_once(stack, cfg, layout, section)
        label = layout.label
        complete = r["left"] == (0, 0)
        sent_ok = sum(n for code, n in r["statuses"].items() if 200 <= code < 300)
        section.row(label, "events/s achieved by the sender", r["send_rate"])
        section.row(label, "events sent 2xx / stored / processed", (sent_ok, r["events"], r["processed"]),
                    met=sent_ok == r["events"] == cfg.rate * cfg.seconds)
        section.row(label, "jobs succeeded / written (dead)", (r["succeeded"], r["jobs"], r["dead"]))
        section.row(label, "received -> processed p50 / p95 / p99 s", r["processing"])
        section.row(label, "received -> each job confirmed p50 / p95 / p99 s",
                    r["latency"] if complete else at_least(r["latency"]))
        # Over the events whose work is all done; with any still open, those are lower bounds.
        section.row(label, "received -> every job confirmed, completed events, p50 / p95 / p99 s",
                    completed_figures(r["completed"], r["completed_count"], r["open_events"]),
                    target="p95 < 1 s", met=_met(r))
        section.row(label, "events completed / still open", (r["completed_count"], r["open_events"]))
        section.row(label, "events processed/s (first received -> last processed)", r["events_per_s"],
                    baseline=results[first]["events_per_s"] if layout != first else None)
        if not complete:
            section.row(label, "every event, received -> all confirmed (open work at its age) p50 / p95 / p99 s",
                        at_least(r["per_event"]))
        peak = max(r["memory"].values())
        section.row(label, "resident memory, largest process of the job worker / events worker, MB",
                    (r["memory"]["jobs"], r["memory"]["events"]), target="< 250 MB per process", met=0 < peak < 250)
        section.row(label, "jobs/s (succeeded / first received -> last confirmed)", r["jobs_per_s"],
                    baseline=results[first]["jobs_per_s"] if layout != first else None)
        section.row(label, "CPU per processed event, first event -> drain end", cpu_figures(r["cpu"]))
        section.row(label, "wake-ups per job run (by outcome)", r["wakeups"])
        if not complete:
            section.note(f"{label}: {r['left'][0]} events and {r['left'][1]} jobs were still open when the drain "
                         f"time ran out; the latencies cover only confirmed work, so they are lower bounds (≥)")
    _ramp(stack, cfg, results, section)
    r = results[first]
    # Only processed events have written their jobs yet: scale by jobs per processed event.
    per_event = r["jobs"] / r["processed"] if r["processed"] else 0.0
    section.note(f"offered load: about {per_event * cfg.rate:.0f} jobs/s ({cfg.rate} events/s, "
                 f"{per_event:.1f} jobs per event)")


def _met(result: dict) -> bool:
    return not result["open_events"] and result["completed"][1] < TARGET_SECONDS


def _ramp(stack: Stack | None, cfg: Config, results: dict, section: Section, run=None) -> None:
    """The highest rate (of ``cfg.ramp``) some layout sustains for as long, p95 < 1 s. At each rate the
    layouts that met every lower rate are tried, best first, until one meets it; a layout that misses
    a rate is not tried higher, and the ramp ends at the first rate none meets (one run of one layout
    is noisy: the runner-up often holds the rate the best one just missed). ``run``: how one rate is
    run (``run_once``)."""
    run = run or run_once
    if not cfg.ramp:
        return
    ranked = sorted(results, key=lambda lay: results[lay]["completed"][1] if results[lay]["completed_count"]
                    else float("inf"))
    candidates = [layout for layout in ranked if _met(results[layout])]
    highest, holder, tried = (cfg.rate if candidates else 0), (candidates or ranked)[0], []
    for rate in cfg.ramp if candidates else ():
        for layout in list(candidates):
            r = run(stack, replace(cfg, rate=rate), layout, section)
            figures = completed_figures(r["completed"], r["completed_count"], r["open_events"])
            tried.append((f"{layout.label} at {rate}/s: p95 {fmt(figures[1])} s, {r['open_events']} events still "
                          f"open" if r["completed_count"] else f"{layout.label} at {rate}/s: no event completed")
                         + (f", CPU {cpu_figures(r['cpu'])}" if "cpu" in r else ""))
            if _met(r):
                highest, holder = rate, layout
                break
            candidates.remove(layout)
        if highest != rate:
            break
    section.row(holder.label, f"highest events/s sustained for {cfg.seconds} s with every job confirmed, p95 < 1 s",
                highest or f"below {cfg.rate}", target=">= 100", met=highest >= 100)
    if tried:
        section.note(f"rates tried after {cfg.rate}/s: " + "; ".join(tried))
