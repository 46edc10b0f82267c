"""Stripe events have a worker of their own in every way Switchboard is run, so an event never
waits behind outbound work (a throttled tool's backlog fills the jobs queue, not the events one)."""

import shlex
from pathlib import Path

import pytest

from config.celery import EVENTS_QUEUE, JOBS_QUEUE, app
from config.supervise import read_procfile

ROOT = Path(__file__).resolve().parent.parent


def _workers(procfile: str) -> dict[str, list[str]]:
    return {c.name: shlex.split(c.command) for c in read_procfile(ROOT / procfile) if " worker" in c.command}


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.local"])
def test_a_worker_consumes_only_the_events_queue(procfile):
    events = _workers(procfile)["events"]
    queues = [arg.split("=", 1)[1] for arg in events if arg.startswith("--queues=")]
    assert queues == [EVENTS_QUEUE]
    # Its own node name, so it never clashes with the jobs worker on the same machine.
    assert any(arg.startswith("--hostname=events@") for arg in events)


@pytest.mark.parametrize("procfile", ["Procfile", "Procfile.local"])
def test_the_jobs_worker_still_takes_every_queue(procfile):
    """A deployment that runs only `worker` still applies events (after its jobs)."""
    assert not any(arg.startswith(("--queues", "-Q")) for arg in _workers(procfile)["worker"])


def test_events_and_jobs_are_routed_to_separate_queues():
    route = app.amqp.router.route
    assert route({}, "billing.process_event")["queue"].name == EVENTS_QUEUE
    assert route({}, "sync.run_job")["queue"].name == JOBS_QUEUE
