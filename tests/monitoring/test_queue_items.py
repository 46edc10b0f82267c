"""Monitoring's kinds in the queue: open incidents, and differences between Stripe and our mirrors."""

import pytest
from django.utils import timezone

from action_queue.selectors import action_items_for
from billing.models import Drift
from monitoring.models import Incident
from tests import helpers

pytestmark = pytest.mark.django_db


def test_open_incidents_and_drift_appear_in_the_owners_action_queue(client, owner):
    Incident.objects.create(rule="dead_jobs", summary="3 outbound jobs dead", link="/sync/jobs/?status=dead", opened_at=timezone.now())
    Drift.objects.create(object_type="subscription", stripe_id="sub_Q", kind=Drift.Kind.STATUS, field="status",
                         ours="active", stripes="past_due", found_at=timezone.now())
    client.force_login(owner)
    page = client.get("/").content.decode()
    assert "Open incidents" in page and "3 outbound jobs dead" in page
    assert "Differences with Stripe" in page and "subscription sub_Q: status differs (status)" in page


def test_support_does_not_see_incidents_or_drift(client, support):
    Incident.objects.create(rule="dead_jobs", summary="3 outbound jobs dead", opened_at=timezone.now())
    client.force_login(support)
    assert "Open incidents" not in client.get("/").content.decode()


def _groups(user) -> dict:
    return {g.key: g for g in action_items_for(user=user).groups}


def test_an_open_incident_is_an_item_that_links_to_the_fix_and_a_resolved_one_is_not(owner):
    Incident.objects.create(rule="jobs_dead", summary="12 jobs dead", link="/sync/jobs/?status=dead",
                            opened_at=timezone.now(), notified_open=True)
    Incident.objects.create(rule="jobs_dead", summary="Old trouble", link="/", opened_at=timezone.now(),
                            resolved_at=timezone.now())
    [item] = _groups(owner)["incident"].items
    assert (item.what, item.url, item.url_label, item.customer) == ("12 jobs dead", "/sync/jobs/?status=dead", "Fix it", None)
    assert "no message has gone out yet" not in item.reason


def test_a_difference_with_stripe_says_how_to_repair_it_and_names_its_customer(owner):
    c = helpers.customer()
    Drift.objects.create(object_type="subscription", stripe_id="sub_1", kind=Drift.Kind.STATUS, field="status",
                         ours="active", stripes="past_due", customer=c, found_at=timezone.now())
    [item] = _groups(owner)["stripe_drift"].items
    assert item.what == "subscription sub_1: status differs (status)"
    assert "reconcile_stripe --apply" in item.reason and item.customer == c


def test_who_may_not_see_health_gets_neither_incidents_nor_differences(finance, support):
    Incident.objects.create(rule="jobs_dead", summary="12 jobs dead", link="/", opened_at=timezone.now())
    Drift.objects.create(object_type="invoice", stripe_id="in_1", kind=Drift.Kind.MISSING, found_at=timezone.now())
    for user in (finance, support):
        assert not {"incident", "stripe_drift"} & set(_groups(user))
