"""Sentences people read: counts with the right noun, no Python None, an error's class said once."""

import pytest

from billing.models import EventStatus
from core.text import count_of
from sync.models import JobStatus
from sync.services.retry import job_plan
from tests.factories import CustomerFactory, StripeEventFactory, SyncJobFactory

pytestmark = pytest.mark.django_db


def test_counts_take_the_right_noun():
    assert count_of(1, "outbound job") + " dead" == "1 outbound job dead"
    assert count_of(8, "outbound job") + " dead" == "8 outbound jobs dead"
    assert count_of(0, "difference") == "0 differences"


def test_the_dead_job_alert_reads_as_a_sentence():
    from django.utils import timezone

    from monitoring.rules import RULES

    customer = CustomerFactory()
    SyncJobFactory(customer=customer, status=JobStatus.DEAD)
    summary = RULES["dead_jobs"].check(timezone.now())[0].summary
    assert summary.startswith("1 outbound job dead") and "(s)" not in summary
    SyncJobFactory(customer=customer, status=JobStatus.DEAD)
    assert RULES["dead_jobs"].check(timezone.now())[0].summary.startswith("2 outbound jobs dead")


def test_a_retry_plan_never_prints_none_for_a_value_that_was_not_there():
    customer = CustomerFactory(status="active", plan="Pro")
    job = SyncJobFactory(customer=customer, system="crm", action="upsert_contact", status=JobStatus.DEAD, payload={})
    line, _ = job_plan(job)
    assert "None" not in line.text and "status to active" in line.text


def test_an_event_error_names_its_class_once(client, owner):
    event = StripeEventFactory(status=EventStatus.FAILED, error_class="OperationalError",
                               last_error="OperationalError while applying the event")
    client.force_login(owner)
    html = client.get(f"/events/{event.pk}/").content.decode()
    assert "OperationalError while applying the event" in html
    assert "OperationalError OperationalError" not in html
