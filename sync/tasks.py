"""Celery entry points: thin, the database row carries the state."""

import socket

from celery import shared_task

from sync.services.executor import job_run
from sync.services.sweeper import jobs_sweep


@shared_task(name="sync.run_job", ignore_result=True)
def run_job(job_id: int) -> str:
    """Run one outbound job if it is due (a duplicate or stale wake-up does nothing)."""
    return job_run(job_id=job_id, worker=f"{socket.gethostname()}:{run_job.request.id or 'local'}")


@shared_task(name="sync.sweep_jobs", ignore_result=True)
def sweep_jobs() -> dict:
    return jobs_sweep()
