import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from kombu import Exchange, Queue

import config.broker  # noqa: F401 - registers the embedded broker's URL scheme

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# DjangoTask gives every task delay_on_commit(): work is scheduled only once
# the transaction that created its database row has committed.
app = Celery("switchboard", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Three queues; a worker started without -Q consumes all of them, in this order:
# beat's few periodic tasks (sweepers, heartbeat) never wait behind a backlog;
# outbound jobs come before new events, so work already started finishes first
# and a burst of events cannot starve the jobs they caused. Events get capacity of
# their own instead: the Procfile's `events` worker consumes only EVENTS_QUEUE, so a
# Stripe event never waits behind outbound work, however large its backlog.
DEFAULT_QUEUE, JOBS_QUEUE, EVENTS_QUEUE = "celery", "sync", "events"
app.conf.task_default_queue = DEFAULT_QUEUE
app.conf.task_queues = [
    Queue(name, Exchange(name), routing_key=name) for name in (DEFAULT_QUEUE, JOBS_QUEUE, EVENTS_QUEUE)
]
app.conf.task_routes = {
    "billing.process_event": {"queue": EVENTS_QUEUE},
    "sync.run_jobs": {"queue": JOBS_QUEUE},
    "sync.run_job": {"queue": JOBS_QUEUE},
}


@app.on_after_configure.connect
def _consume_queues_in_order(sender: Celery, source, **kwargs) -> None:
    # Redis: ask the queues in the order above (BRPOP takes the first non-empty one)
    # instead of its default round robin. Other transports ignore the option.
    options = source.broker_transport_options or {}
    source.broker_transport_options = {**options, "queue_order_strategy": "priority"}


# Celery's Django fixup closes the database connection before and after every task, so each
# task paid for a new PostgreSQL connection (a server process and its login): most of what a
# small task costs. Workers keep connections the way Django does between requests instead:
# one older than CONN_MAX_AGE, or broken (CONN_HEALTH_CHECKS), is replaced around a task.
app.conf.CELERY_DB_REUSE_MAX = 10**9  # the fixup's own recycling: effectively never


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(sender=None, **kwargs) -> None:
    if sender is not None and getattr(sender.request, "is_eager", False):
        return  # an eager task runs inside its caller's transaction (tests): leave the connection alone
    from django.db import close_old_connections

    close_old_connections()
