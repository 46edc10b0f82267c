"""Celery entry points: thin, the database row carries the state."""

import socket
from collections import Counter

from celery import shared_task

from sync.services.drift import every_system_in_sandbox, reconcile_tools_slice
from sync.services.executor import job_run, jobs_run
from sync.services.sweeper import jobs_sweep


@shared_task(name="sync.run_jobs", ignore_result=True)
def run_jobs(system: str, job_ids: list[int], fill: bool = True) -> dict:
    """Run a batch of one system's outbound jobs: those named that are still due, and (``fill``)
    the system's other due jobs up to a full batch. Duplicate or stale wake-ups find nothing to do."""
    outcomes = jobs_run(job_ids=job_ids, worker=f"{socket.gethostname()}:{run_jobs.request.id or 'local'}",
                        system=system if fill else "")
    return {"system": system, "outcomes": dict(Counter(outcomes.values()))}


@shared_task(name="sync.run_job", ignore_result=True)
def run_job(job_id: int) -> str:
    """Run one outbound job if it is due: the wake-up published before jobs ran in batches, still
    honoured for the messages a broker may hold."""
    return job_run(job_id=job_id, worker=f"{socket.gethostname()}:{run_job.request.id or 'local'}")


@shared_task(name="sync.sweep_jobs", ignore_result=True)
def sweep_jobs() -> dict:
    return jobs_sweep()


@shared_task(name="sync.reconcile_tools", ignore_result=True)
def reconcile_tools_daily(start: bool = True) -> str:
    """The daily drift pass, a slice at a time: each slice reads a share of each tool's window and
    schedules the next, so no worker waits out a long pass. Off while every system runs in sandbox."""
    if every_system_in_sandbox():
        return "skipped: every system runs in sandbox"
    wait = reconcile_tools_slice(start=start)
    if wait is not None:
        reconcile_tools_daily.apply_async(kwargs={"start": False}, countdown=wait)
        return f"continues in {wait:.0f} s"
    return "finished"
