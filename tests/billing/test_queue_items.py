"""Billing's kinds in the queue: failed payments, disputes, events that failed (replay), refunds to approve."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from action_queue.items import ROWS_PER_GROUP
from action_queue.selectors import action_items_for
from action_queue.services import action_item_resolve
from audit.models import AuditEvent
from billing.models import EventStatus, Invoice
from customers.models import CustomerStatus
from tests import helpers

pytestmark = pytest.mark.django_db


def _kinds(user, **kw):
    return {g.key: g for g in action_items_for(user=user, **kw).groups}


def test_a_failed_payment_is_waiting_since_stripe_declined_it_and_a_resolved_one_returns_when_it_changes(owner):
    declined = timezone.now().replace(microsecond=0) - timedelta(days=4)
    c = helpers.customer(status=CustomerStatus.PAST_DUE)
    invoice = Invoice.objects.create(stripe_id="in_late", customer=c, status="open", amount_due=4900, currency="usd",
                                     payment_failed=True, attempt_count=1, last_event_created=declined)
    [item] = _kinds(owner)["failed_payment"].items
    assert item.since == declined  # not the moment the row was written
    action_item_resolve(kind="failed_payment", object_id=str(invoice.pk), note="Called them", actor=owner, source="ui")
    assert "failed_payment" not in _kinds(owner)
    Invoice.objects.filter(pk=invoice.pk).update(attempt_count=2, updated_at=timezone.now() + timedelta(seconds=1))
    assert "failed_payment" in _kinds(owner)  # the next decline brings it back, though Stripe's time is older


def test_replaying_a_failed_event_from_the_queue_applies_it_again_on_the_record(client, owner):
    event = helpers.failed_event(helpers.customer())
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert f'action="{reverse("queue_replay", args=[event.pk])}"' in html
    response = client.post(reverse("queue_replay", args=[event.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Replayed: processed." in response.content.decode()
    event.refresh_from_db()
    assert event.status == EventStatus.PROCESSED
    assert AuditEvent.objects.filter(action="event.replayed", actor=owner).exists()


def test_a_long_group_of_failed_events_links_to_all_of_them(client, owner):
    for _ in range(ROWS_PER_GROUP + 1):
        helpers.failed_event(helpers.customer())
    client.force_login(owner)
    html = client.get(reverse("home")).content.decode()
    assert "and 1 more like these" in html
    assert f'<a href="{reverse("event_list")}?status=failed">see all failed events</a>' in html
