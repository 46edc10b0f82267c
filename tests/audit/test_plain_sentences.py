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


def test_an_audit_entrys_changes_read_as_before_and_after_without_python_values(client, owner):
    from audit.models import Source
    from audit.services import audit_record

    audit_record(action="customer.restrict", source=Source.UI, actor=owner, summary="Restricted",
                 changes={"restricted": [False, True], "expires_at": None, "assigned_to": [None, "ana@example.com"],
                          "rules": {"billing": {"group": "Billing", "priority": None}}})
    client.force_login(owner)
    html = client.get("/audit/", headers={"HX-Request": "true"}).content.decode()
    entry = html.split("audit-changes")[1].split("</dl>")[0]
    assert "no → yes" in entry and "— → ana@example.com" in entry
    assert "<dt class=\"fw-normal text-body-secondary\">expires_at</dt><dd class=\"mb-1 text-break\">—</dd>" in entry
    assert "&quot;priority&quot;: null" in entry  # nested rules stay JSON, as a block
    assert "None" not in entry and "True" not in entry and "False" not in entry


def test_a_long_first_line_is_shortened_between_words():
    from core.text import shortened

    line = "We are twelve people and would like to try the Business plan before we buy. Is there a trial for teams?"
    assert shortened(line, 80) == "We are twelve people and would like to try the Business plan before we buy. Is…"
    assert len(shortened(line, 80)) <= 80
    assert shortened("Short one", 80) == "Short one"
    assert shortened("x" * 100, 10) == "x" * 9 + "…"
    assert shortened("ends exactly here and more", 18) == "ends exactly here…"  # the space is where it ends
    assert shortened("ends exactly here and more", 17) == "ends exactly…"
