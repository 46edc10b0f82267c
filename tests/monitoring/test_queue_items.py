import pytest
from django.utils import timezone

from monitoring.models import Drift, Incident

pytestmark = pytest.mark.django_db


def test_open_incidents_and_drift_appear_in_the_owners_action_queue(client, owner):
    Incident.objects.create(rule="dead_jobs", summary="3 outbound job(s) dead", link="/sync/jobs/?status=dead", opened_at=timezone.now())
    Drift.objects.create(object_type="subscription", stripe_id="sub_Q", kind=Drift.Kind.STATUS, field="status",
                         ours="active", stripes="past_due", found_at=timezone.now())
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert "Open incidents" in page and "3 outbound job(s) dead" in page
    assert "Differences with Stripe" in page and "subscription sub_Q: status differs (status)" in page


def test_support_does_not_see_incidents_or_drift(client, support):
    Incident.objects.create(rule="dead_jobs", summary="3 outbound job(s) dead", opened_at=timezone.now())
    client.force_login(support)
    assert "Open incidents" not in client.get("/").content.decode()
