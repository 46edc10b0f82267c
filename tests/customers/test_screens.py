"""The customer screens: search, the list's filters, who may see whom, overrides, the 360, reviews, merges."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import Invoice, Subscription
from core.paging import keyset_page
from customers.models import Customer, CustomerMerge, CustomerStatus, DistinctPair, ExternalLink, System
from customers.selectors import customer_search
from customers.services import customer_assign
from customers.visibility import sees_every_customer
from support.models import Ticket
from sync.models import SyncJob
from tests import helpers

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field", ["email", "name", "public_id", "stripe", "crm"])
def test_search_finds_a_customer_by_any_of_its_ids(owner, field):
    c = helpers.customer(email="grace@navy.example", name="Grace Hopper")
    ExternalLink.objects.create(customer=c, system=System.CRM, external_id="hs-4242")
    helpers.customer()
    term = {"email": "grace@navy", "name": "Hopper", "public_id": c.public_id, "crm": "hs-4242",
            "stripe": c.links.get(system=System.STRIPE).external_id}[field]
    sees_every_customer(owner)  # the role lookup is cached per request; the search itself is what is counted
    with CaptureQueriesContext(connection) as queries:
        found = list(customer_search(user=owner, query=term))
    assert found == [c]
    assert len(queries) <= 2  # the ids through their indexes, then the rows


def test_keyset_pages_cover_every_customer_once(owner):
    for _ in range(120):
        helpers.customer()
    seen, cursor, pages = [], "", 0
    while True:
        page = keyset_page(customer_search(user=owner), cursor=cursor)
        seen += [c.pk for c in page.rows]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 3 and len(seen) == len(set(seen)) == 120


def test_the_count_stops_at_the_cap(owner, settings, monkeypatch):
    from core import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 10)
    for _ in range(12):
        helpers.customer()
    page = keyset_page(customer_search(user=owner))
    assert page.count == 10 and page.count_capped


def test_list_filters_by_status_and_sync_state(client, owner):
    broken = helpers.customer(status=CustomerStatus.PAST_DUE)
    helpers.dead_job(broken)
    helpers.customer(status=CustomerStatus.PAST_DUE)
    client.force_login(owner)
    html = client.get(reverse("customer_list"), {"status": "past_due", "sync": "failed"}).content.decode()
    assert broken.public_id in html and "1 customer" in html


def test_support_finds_a_customer_by_stripe_id_and_sees_billing_state(client, support):
    c = helpers.customer(status=CustomerStatus.PAST_DUE)
    helpers.billing_rows(c)
    stripe_id = c.links.get(system=System.STRIPE).external_id
    client.force_login(support)
    assert c.public_id in client.get(reverse("customer_list"), {"q": stripe_id}).content.decode()
    html = client.get(reverse("customer_detail", args=[c.public_id])).content.decode()
    assert "payment failed" in html and "needs_response" in html.replace(" ", "_") or "needs response" in html
    assert "Card declined" in html  # the ticket


def test_restricted_customer_is_refused_to_staff_it_is_not_assigned_to(client, support, owner):
    c = helpers.customer(restricted=True)
    client.force_login(support)
    assert client.get(reverse("customer_detail", args=[c.public_id])).status_code == 403
    assert c.public_id not in client.get(reverse("customer_list")).content.decode()
    customer_assign(customer=c, assignee=support, actor=owner, source="ui")  # assignment grants the view
    assert client.get(reverse("customer_detail", args=[c.public_id])).status_code == 200


def test_restricting_needs_the_customer_to_be_visible_too_not_only_the_permission(client, support):
    from django.contrib.auth.models import Permission

    c = helpers.customer(restricted=True)
    support.user_permissions.add(Permission.objects.get(codename="assign_customer"))
    client.force_login(support)
    assert client.post(reverse("customer_restrict", args=[c.public_id]), {"restricted": "0"}).status_code == 403
    c.refresh_from_db()
    assert c.restricted


def test_override_needs_a_reason_and_an_expiry_and_is_audited_and_shown(client, owner):
    c = helpers.customer(status=CustomerStatus.PAST_DUE)
    client.force_login(owner)
    url = reverse("customer_override", args=[c.public_id])
    assert client.post(url, {"status": "active", "reason": "", "expires_at": ""}).status_code == 302
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {"status": "active", "reason": "Goodwill", "expires_at": past}).status_code == 302
    assert not Customer.objects.get(pk=c.pk).override_active
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, {"status": "active", "reason": "Goodwill", "expires_at": future}).status_code == 302
    c.refresh_from_db()
    assert c.override_active and c.effective_status == "active"
    assert AuditEvent.objects.filter(action="customer.override_set", customer=c).exists()
    assert "Override: Active" in client.get(reverse("customer_list")).content.decode()
    assert "Manual override: Active" in client.get(reverse("customer_detail", args=[c.public_id])).content.decode()


def test_the_360_shows_links_sync_state_and_one_timeline(client, owner):
    c = helpers.customer()
    helpers.dead_job(c)
    helpers.failed_event(c)
    client.force_login(owner)
    html = client.get(reverse("customer_detail", args=[c.public_id])).content.decode()
    assert "https://dashboard.stripe.com/customers/cus_screens" in html
    assert "Stripe invoice.payment_failed" in html and "CRM upsert_contact: dead" in html


def _twins():
    a = helpers.customer(email="same@example.com", status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
    b = helpers.customer(email="same@example.com", status=CustomerStatus.NEEDS_REVIEW, review_reason="Same email")
    ExternalLink.objects.create(customer=b, system=System.CRM, external_id="hs-b")
    helpers.billing_rows(b)
    helpers.dead_job(b)
    return a, b


def test_review_shows_both_records_side_by_side(client, owner):
    a, b = _twins()
    client.force_login(owner)
    html = client.get(reverse("customer_review", args=[a.public_id])).content.decode()
    assert a.public_id in html and b.public_id in html and "Same email" in html


def test_every_decision_on_the_review_asks_before_it_acts(client, owner):
    a, b = _twins()
    client.force_login(owner)
    html = client.get(reverse("customer_review", args=[a.public_id])).content.decode()
    forms = [f for f in html.split("<form")[1:] if "customer_merge" in f or "/merge/" in f or "/distinct/" in f]
    assert len(forms) == 3  # keep this one, keep the other one, different people
    assert all('data-confirm="' in f.split(">")[0] for f in forms)
    assert 'data-confirm="Mark ' in html and "as different people?" in html


def test_merge_moves_everything_leaves_a_tombstone_and_can_be_undone(client, owner):
    a, b = _twins()
    client.force_login(owner)
    response = client.post(reverse("customer_merge", args=[a.public_id]), {"other": b.public_id, "keep": "this"})
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.merged_into == a
    assert ExternalLink.objects.get(external_id="hs-b").customer == a
    assert Subscription.objects.filter(customer=a).count() == 1 and Invoice.objects.filter(customer=a).count() == 1
    assert SyncJob.objects.filter(customer=a).count() == 1 and Ticket.objects.filter(customer=a).count() == 1
    # b's Stripe id stays on the tombstone (one id per system); identity follows the tombstone
    assert ExternalLink.objects.filter(customer=b, system=System.STRIPE).exists()
    assert client.get(reverse("customer_detail", args=[b.public_id])).url == reverse("customer_detail", args=[a.public_id])
    assert AuditEvent.objects.filter(action="customer.merge").exists()

    merge = CustomerMerge.objects.get()
    assert client.post(reverse("merge_undo", args=[merge.pk])).status_code == 302
    b.refresh_from_db()
    assert b.merged_into is None
    assert ExternalLink.objects.get(external_id="hs-b").customer == b
    assert SyncJob.objects.filter(customer=b).count() == 1 and Ticket.objects.filter(customer=b).count() == 1


def test_a_merge_older_than_a_day_cannot_be_undone(client, owner):
    a, b = _twins()
    client.force_login(owner)
    client.post(reverse("customer_merge", args=[a.public_id]), {"other": b.public_id, "keep": "this"})
    CustomerMerge.objects.update(created_at=timezone.now() - timedelta(days=2))
    client.post(reverse("merge_undo", args=[CustomerMerge.objects.get().pk]))
    b.refresh_from_db()
    assert b.merged_into == a


def test_marking_distinct_stores_the_pair_and_clears_the_flag(client, owner):
    a, b = _twins()
    client.force_login(owner)
    response = client.post(reverse("customer_distinct", args=[a.public_id]), {"other": b.public_id, "note": "siblings"})
    assert response.status_code == 302
    assert DistinctPair.objects.filter(low=min(a, b, key=lambda c: c.pk), high=max(a, b, key=lambda c: c.pk)).exists()
    for c in (a, b):
        c.refresh_from_db()
        assert c.review_reason == "" and c.status != CustomerStatus.NEEDS_REVIEW
    assert "Possible twin" not in client.get(reverse("customer_review", args=[a.public_id])).content.decode()
    # identity checks consult the pair: the flag does not come back
    from customers.identity import flag_email_conflicts

    assert flag_email_conflicts(customer=Customer.objects.get(pk=a.pk)) == []


def _heard_of_late() -> tuple[Customer, "datetime"]:
    """A customer Switchboard learned of today, whose first Stripe event is two years old."""
    from billing.models import StripeCustomer

    c = helpers.customer()
    first = timezone.now().replace(microsecond=0) - timedelta(days=730)
    helpers.failed_event(c, created=first + timedelta(days=3), status="processed")
    helpers.failed_event(c, created=first + timedelta(days=400), status="processed")
    StripeCustomer.objects.create(stripe_id="cus_late", customer=c, stripe_created=first)
    return c, first


def test_the_360_and_the_list_say_customer_since_billing_began_not_since_switchboard_heard(client, owner):
    c, first = _heard_of_late()
    client.force_login(owner)
    detail = client.get(reverse("customer_detail", args=[c.public_id])).content.decode()
    listing = client.get(reverse("customer_list")).content.decode()
    for html in (detail, listing):
        assert f'<time datetime="{first.isoformat()}"' in html
        assert f'<time datetime="{c.created_at.isoformat()}"' not in html


def test_customer_since_is_the_first_event_when_stripe_sent_no_customer_object(owner):
    from customers.selectors import customer_since

    c = helpers.customer()
    assert customer_since(c) == c.created_at  # nothing from Stripe yet
    first = timezone.now().replace(microsecond=0) - timedelta(days=40)
    helpers.failed_event(c, created=first, status="processed")
    assert customer_since(c) == first


def test_the_review_shows_when_each_twin_became_a_customer(client, owner):
    a, b = _twins()
    first = timezone.now().replace(microsecond=0) - timedelta(days=90)
    helpers.failed_event(b, created=first, status="processed")
    client.force_login(owner)
    html = client.get(reverse("customer_review", args=[a.public_id])).content.decode()
    assert f'<time datetime="{first.isoformat()}"' in html


def test_the_timeline_places_a_status_change_at_the_billing_event_that_caused_it(owner):
    from customers.models import CustomerStatusChange
    from customers.selectors import customer_timeline

    c = helpers.customer()
    when = timezone.now().replace(microsecond=0) - timedelta(days=12)
    event = helpers.failed_event(c, created=when, status="processed")
    CustomerStatusChange.objects.create(customer=c, from_status="active", to_status="past_due", reason="x",
                                        source_event=event)
    status = next(e for e in customer_timeline(c) if e.kind == "status")
    assert status.at == when
