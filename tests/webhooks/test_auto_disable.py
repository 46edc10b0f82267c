"""An endpoint whose every delivery failed for the failure period is switched off by the scheduled
check, with an incident that stays open until a person switches it on; a success resets the clock."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from monitoring.alerts import alerts_evaluate
from monitoring.models import Incident
from sync.models import SystemState
from tests.factories import CustomerFactory
from tests.sync.helpers import due_now, run
from tests.webhooks.helpers import dispute_fact, endpoint_at
from tests.webhooks.receiver import Receiver
from webhooks.facts import facts_publish
from webhooks.services import endpoint_enable, endpoints_disable_failing
from webhooks.tasks import disable_failing

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast(settings):
    settings.SYNC_HTTP_READ_TIMEOUT = 0.3
    settings.SYNC_MAX_ATTEMPTS = 50
    settings.SYNC_BREAKER_THRESHOLD = 1000
    settings.WEBHOOK_FAILING_DAYS = 5
    return settings


def test_failing_for_the_whole_period_switches_it_off_with_an_incident(fast):
    customer = CustomerFactory()
    start = timezone.now()
    with Receiver() as receiver, time_machine.travel(start, tick=True) as traveller:
        receiver.answers = [(503, {}, 0.0)] * 10
        endpoint = endpoint_at(receiver.url)
        [job] = facts_publish(facts=[dispute_fact(customer)])
        assert run(job) == "retrying"
        traveller.shift(timedelta(days=4, hours=23))
        assert disable_failing() == []  # not yet the whole period
        due_now(job)
        assert run(job) == "retrying"
        traveller.shift(timedelta(hours=2))
        assert endpoints_disable_failing() == [endpoint.pk]
        endpoint.refresh_from_db()
        assert not endpoint.enabled and endpoint.disabled_automatically and "5 days" in endpoint.disabled_reason
        assert SystemState.objects.get(system=endpoint.system).paused
        due_now(job)
        assert run(job) == "paused"  # its deliveries wait, no attempt spent
        alerts_evaluate(now=timezone.now())
        incident = Incident.objects.get(rule="webhook_endpoint_disabled", resolved_at__isnull=True)
        assert incident.key == f"endpoint:{endpoint.pk}"

        receiver.answers = []
        endpoint_enable(endpoint=endpoint, actor=None)
        assert run(job) == "succeeded"  # what waited goes once it is on again
        alerts_evaluate(now=timezone.now())
        incident.refresh_from_db()
        assert incident.resolved_at is not None


def test_a_delivery_that_gets_through_resets_the_clock(fast):
    customer = CustomerFactory()
    with Receiver() as receiver, time_machine.travel(timezone.now(), tick=True) as traveller:
        receiver.answers = [(503, {}, 0.0)]
        endpoint = endpoint_at(receiver.url)
        jobs = facts_publish(facts=[dispute_fact(customer, dispute=f"dp_{n}") for n in range(2)])
        assert run(jobs[0]) == "retrying"
        traveller.shift(timedelta(days=3))
        assert run(jobs[1]) == "succeeded"
        traveller.shift(timedelta(days=3))
        assert endpoints_disable_failing() == []
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.failing_since is None


def test_the_check_is_scheduled_hourly_as_a_registered_task(settings):
    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["webhooks-disable-failing"]
    assert entry["task"] == disable_failing.name == "webhooks.disable_failing" and entry["schedule"] <= 3600
    assert "webhooks.disable_failing" in app.tasks
