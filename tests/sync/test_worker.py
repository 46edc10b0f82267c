"""How workers run: events and outbound jobs on their own queues, waiting jobs taken before new events,
and one database connection kept from task to task."""

import pytest
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from config.celery import app
from sync.tasks import run_job

PERIODIC = ["billing.sweep_events", "sync.sweep_jobs", "billing.reconcile_stripe"]


def queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_events_and_jobs_are_routed_to_different_queues():
    assert queue_of("billing.process_event") == "events"
    assert queue_of("sync.run_job") == "sync"
    assert {queue_of(name) for name in PERIODIC} == {app.conf.task_default_queue}


def test_a_worker_started_without_a_queue_list_consumes_all_three_periodic_first_then_jobs_then_events():
    assert list(app.amqp.queues.consume_from) == ["celery", "sync", "events"]
    assert app.conf.broker_transport_options["queue_order_strategy"] == "priority"


@pytest.mark.redis
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")  # send_task always publishes
def test_with_a_backlog_of_events_the_waiting_jobs_are_taken_first(redis_server):
    taken: list[str] = []
    with app.connection_for_write(redis_server.url) as connection:
        for n in range(3):
            app.send_task("billing.process_event", args=[n], connection=connection)
        for n in range(2):
            app.send_task("sync.run_job", args=[n], connection=connection)

        def on_message(body, message) -> None:
            taken.append(message.headers["task"])
            message.ack()

        queues = list(app.amqp.queues.consume_from.values())
        with connection.Consumer(queues, callbacks=[on_message], accept=["json"], prefetch_count=1):
            while len(taken) < 5:
                connection.drain_events(timeout=5)
    # Round robin would interleave them (job, event, job, event, event).
    assert taken == ["sync.run_job"] * 2 + ["billing.process_event"] * 3


@pytest.mark.postgres  # SQLite's in-memory test database ignores a close
@pytest.mark.django_db
def test_a_worker_keeps_its_database_connection_from_one_task_to_the_next():
    fixup = DjangoWorkerFixup(app)  # what celery installs around every task in a worker
    connection.ensure_connection()
    before = connection.connection
    for _ in range(3):
        fixup.on_task_prerun(sender=run_job)
        fixup.on_task_postrun(sender=run_job)
    assert connection.connection is before and connection.is_usable()
