"""A real worker killed while a receiver holds its answer: the sweeper hands the delivery to another
worker, which sends the same body with the same webhook-id; the fact stays one job, delivered once
as far as a receiver deduplicating on webhook-id can tell."""

import json

import pytest
from celery import Celery, current_app

from sync.models import JobStatus, SyncJob
from tests.factories import CustomerFactory
from tests.sync.servers import wait_for
from tests.sync.test_processes import process_env, sweep, workers  # noqa: F401 (fixtures)
from tests.webhooks.helpers import dispute_fact, endpoint_at
from tests.webhooks.receiver import Receiver
from webhooks.facts import facts_publish

pytestmark = [pytest.mark.process, pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_delivery_is_replaced_with_the_same_webhook_id(process_env, workers, redis_server):
    customer = CustomerFactory()
    with Receiver() as receiver:
        receiver.answers = [(204, {}, 20.0)]  # the first delivery arrives; its answer is held
        endpoint = endpoint_at(receiver.url)
        receiver.secrets = [endpoint.secret]
        eager, current_app.conf.task_always_eager = current_app.conf.task_always_eager, False
        try:  # the wake-up goes to a broker no worker here listens to: the doomed worker gets its own
            [job] = facts_publish(facts=[dispute_fact(customer)])
        finally:
            current_app.conf.task_always_eager = eager
        doomed = workers.start("doomed")
        broker = Celery(broker=redis_server.url, set_as_current=False)  # not this process's app after the test
        broker.send_task("sync.run_jobs", args=[endpoint.system, [job.pk]])
        wait_for(lambda: len(receiver.deliveries) == 1, "the first delivery to arrive", timeout=60)
        workers.kill(doomed)
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING
        SyncJob.objects.filter(pk=job.pk).update(lease_expires_at=job.lease_expires_at.replace(year=2000))
        workers.start("replacement")
        sweep(process_env)
        wait_for(lambda: SyncJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, "the delivery to succeed",
                 timeout=60)
    assert SyncJob.objects.filter(system=endpoint.system).count() == 1
    ids = {d["headers"]["webhook-id"] for d in receiver.deliveries}
    assert ids == {dispute_fact(customer).id} and all(d["verified"] == [True] for d in receiver.deliveries)
    assert len({json.dumps(json.loads(d["body"]), sort_keys=True) for d in receiver.deliveries}) == 1
    assert list(job.attempt_log.values_list("outcome", flat=True)) == ["lost", "ok"]
