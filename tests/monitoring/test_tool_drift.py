"""Drift between the outside tools and billing on the health screen and in the alert rules: a new kind
of difference opens one incident; more of a kind already reported join it."""

import pytest
from django.urls import reverse

from monitoring.alerts import alerts_evaluate
from monitoring.models import Incident
from sync.models import DriftKind, DriftPass, ToolDrift
from sync.services.drift import reconcile_system
from tests.factories import CustomerFactory
from tests.monitoring.conftest import slack_texts

pytestmark = pytest.mark.django_db


def drift(kind=DriftKind.ACCESS_EXTRA, system="community") -> ToolDrift:
    return ToolDrift.objects.create(customer=CustomerFactory(status="canceled"), system=system, kind=kind,
                                    field="access", expected="absent", actual="present")


def test_a_new_kind_of_drift_opens_one_incident_and_more_of_it_join(channels):
    drift()
    alerts_evaluate()
    drift()
    alerts_evaluate()
    assert Incident.objects.filter(rule="tool_drift").count() == 1
    assert Incident.objects.get(rule="tool_drift").summary == "2 differences in Community (sandbox): access that should not be there"
    drift(DriftKind.MISSING, "crm")
    alerts_evaluate()
    assert set(Incident.objects.filter(rule="tool_drift").values_list("key", flat=True)) == {
        "community:access_extra", "crm:missing"}
    assert sum("Incident opened" in t for t in slack_texts(channels)) == 2


def test_the_incident_resolves_once_the_differences_are_closed(channels):
    row = drift()
    alerts_evaluate()
    ToolDrift.objects.filter(pk=row.pk).update(resolved_at=row.found_at, resolution="gone")
    alerts_evaluate()
    assert Incident.objects.get(rule="tool_drift").resolved_at is not None


def test_the_health_screen_shows_each_systems_last_pass_and_open_differences(client, owner, settings, tmp_path):
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    CustomerFactory.create_batch(3)
    reconcile_system(system="crm")
    drift()
    DriftPass.objects.create(system="email", checked=4)  # interrupted: resumes on the next run
    client.force_login(owner)
    page = client.get(reverse("system_health")).content.decode()
    section = page[page.index('id="tool-drift"'):page.index("</table>", page.index('id="tool-drift"'))]
    assert "crm <span" in section and "finished" in section and "<td>3</td>" in section
    assert "stopped after 4: resumes on the next run" in section
    assert '<a href="/">1</a>' in section
