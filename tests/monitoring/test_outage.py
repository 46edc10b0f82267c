"""A CRM outage, end to end: jobs run through the real executor against a HubSpot fake on 127.0.0.1
that answers 503 for ten minutes; the scheduler's evaluation runs every ALERT_EVALUATE_SECONDS of
moved time; a Slack-compatible receiver on 127.0.0.1 counts what a person is told."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from monitoring.alerts import alerts_evaluate
from sync.models import SyncAttempt
from sync.services import jobs_sweep
from tests.monitoring.conftest import beat, slack_texts
from tests.sync import fakes
from tests.sync.helpers import make_job

pytestmark = pytest.mark.django_db

STEP = 5  # seconds of moved time between sweeps
DOWN = "CRM (HubSpot) is down"


def test_a_crm_answering_503_for_ten_minutes_is_one_down_message_then_one_resolved(serve, channels):
    hub = serve(fakes.HubSpot())
    hub.force = (503, {"status": "error", "message": "Service Unavailable"})
    told: dict[str, object] = {}  # message kind -> moved time it went out
    with time_machine.travel(timezone.now(), tick=False) as clock:
        start = timezone.now()
        for step in range(13 * 60 // STEP):
            elapsed = step * STEP
            if elapsed == 10 * 60:
                hub.force = None  # the CRM answers again
            if elapsed % 60 == 0:
                make_job("crm", "upsert_contact")  # the founder's customers keep changing
            jobs_sweep()
            if elapsed % settings.ALERT_EVALUATE_SECONDS == 0:
                beat()
                alerts_evaluate()
                for text in slack_texts(channels):
                    if DOWN in text:
                        told.setdefault(text.split(":")[0], timezone.now())
            clock.shift(timedelta(seconds=STEP))

    down = [text for text in slack_texts(channels) if DOWN in text]
    assert [text.split(":")[0] for text in down] == ["[Switchboard] Incident opened", "[Switchboard] Resolved"]
    first_failure = SyncAttempt.objects.filter(outcome="transient").order_by("started_at").first().started_at
    recovered = SyncAttempt.objects.filter(outcome="ok").order_by("started_at").first().started_at
    to_message = told["[Switchboard] Incident opened"] - first_failure
    to_resolved = told["[Switchboard] Resolved"] - recovered
    print(f"outage: first failure -> down message {to_message.total_seconds():.0f} s; "
          f"first success -> resolved {to_resolved.total_seconds():.0f} s (moved time)")
    # Down means failing for ALERT_SYSTEM_DOWN_MINUTES; then it is said at the next evaluation.
    assert timedelta(minutes=settings.ALERT_SYSTEM_DOWN_MINUTES) <= to_message <= timedelta(
        minutes=settings.ALERT_SYSTEM_DOWN_MINUTES, seconds=settings.ALERT_EVALUATE_SECONDS)
    assert to_resolved <= timedelta(seconds=settings.ALERT_EVALUATE_SECONDS)
    assert recovered - start >= timedelta(minutes=10)
