"""Part 4, recovery: "retry all" of every dead job (the generator's 10,000) with 2 worker processes
against the fakes, timed until the last one is confirmed. Run without the screens part, it writes
the dead jobs itself (one per new customer, in the generator's shapes)."""

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.report import Section
from bench.stack import Stack

if TYPE_CHECKING:
    from accounts.models import User


@dataclass
class Config:
    workers: int
    drain_seconds: int
    dead: int  # the dead jobs retried: those the screens part made, topped up to this many


FULL = Config(workers=2, drain_seconds=360, dead=10_000)
QUICK = Config(workers=2, drain_seconds=30, dead=20)  # what the quick screens part makes


def _top_up(dead: int) -> None:
    """Write the dead jobs missing to ``dead`` (the screens part may have made them already)."""
    from bench import generate
    from customers.models import Customer
    from sync.models import SyncJob

    missing = dead - SyncJob.objects.dead().count()
    if missing > 0:
        generate.prepare()
        generate.fill(generate.Slice(start=Customer.objects.count(), customers=missing, events_per_customer=1,
                                     jobs_per_customer=1, dead=missing))


def run(stack: Stack, cfg: Config, section: Section, user: "User") -> None:
    from django.conf import settings

    from audit.models import Source
    from customers.models import System
    from sync.models import OPEN_JOB_STATUSES, JobStatus, SyncJob
    from sync.selectors import jobs_visible_to
    from sync.services import jobs_retry_bulk

    _top_up(cfg.dead)
    ids = list(SyncJob.objects.dead().values_list("pk", flat=True))
    if not ids:
        raise RuntimeError("no dead jobs to retry (the screens part makes them)")
    stack.start_beat()
    worker = stack.start_worker(cfg.workers)
    try:
        started = time.monotonic()
        # What the queue's "Retry all" does, one system at a time.
        for system in (System.CRM, System.SUPPORT, System.COMMUNITY, System.EMAIL):
            jobs = jobs_visible_to(user=user).filter(system=system, status=JobStatus.DEAD)
            jobs_retry_bulk(jobs=jobs, actor=user, source=Source.UI)
        planned = time.monotonic() - started
        mine = SyncJob.objects.filter(pk__in=ids)
        # A wake-up marks enqueued_at; the rest wait for the sweeper.
        woken = mine.filter(enqueued_at__isnull=False).count()
        deadline = started + cfg.drain_seconds
        while time.monotonic() < deadline and mine.open().exists():
            time.sleep(0.5)
        elapsed = time.monotonic() - started
    finally:
        worker.stop()
    counts = {s: mine.filter(status=s).count() for s in JobStatus.values}
    still_open = sum(counts[s] for s in OPEN_JOB_STATUSES)
    drained = still_open == 0
    section.note(f"{len(ids):,} dead jobs, retried through jobs_retry_bulk per system (the queue's Retry all), "
                 f"one celery worker with {cfg.workers} prefork processes, beat running; drain allowed "
                 f"{cfg.drain_seconds} s; the retry wakes every job due within one sweep interval "
                 f"({settings.SYNC_SWEEP_INTERVAL} s) on time, the sweeper wakes at most "
                 f"{settings.SYNC_SWEEP_BATCH} later ones per sweep")
    section.row("retry all: plan and requeue", "seconds", planned)
    section.row("retry all", "jobs woken by the retry (or by sweeps while it ran) / left waiting",
                (woken, len(ids) - woken))
    section.row(f"drain with {cfg.workers} worker processes", "seconds to the last confirmed job",
                elapsed if drained else f"> {elapsed:.0f} (not drained)", target="< 20 s",
                met=drained and elapsed < 20)
    section.row("after the drain", "succeeded / dead / still open",
                (counts[JobStatus.SUCCEEDED], counts[JobStatus.DEAD], still_open), met=drained and
                counts[JobStatus.SUCCEEDED] == len(ids))
    section.row("throughput", "jobs/s", counts[JobStatus.SUCCEEDED] / elapsed if elapsed else 0.0)
