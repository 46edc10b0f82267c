"""After a merge, the merged-away record's ids and email still find the customer, and its 360 shows them."""

import pytest

from billing.models import RefundRequest, Subscription, SubscriptionChange
from customers.models import CustomerMerge
from customers.selectors import customer_search
from customers.services import customer_merge_undo, customers_merge
from tests.factories import ChargeFactory, CustomerFactory, ExternalLinkFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(owner):
    survivor = CustomerFactory(email="ada@example.com", name="Ada Lovelace")
    twin = CustomerFactory(email="ada.l@example.org", name="Ada L.")
    ExternalLinkFactory(customer=survivor, system="stripe", external_id="cus_FIRST1")
    ExternalLinkFactory(customer=twin, system="stripe", external_id="cus_SECOND2")
    ExternalLinkFactory(customer=twin, system="crm", external_id="hs-777")
    customers_merge(survivor=survivor, merged=twin, actor=owner, source="ui")
    return survivor, twin


@pytest.mark.parametrize("query", ["cus_SECOND2", "hs-777", "ada.l@example.org", "example.org"])
def test_search_finds_the_survivor_by_what_the_merged_record_had(merged, owner, query):
    survivor, twin = merged
    assert list(customer_search(user=owner, query=query)) == [survivor]


def test_search_by_the_merged_records_own_switchboard_id_finds_the_survivor(merged, owner):
    survivor, twin = merged
    assert list(customer_search(user=owner, query=twin.public_id)) == [survivor]


def test_a_merge_of_a_merge_still_leads_to_the_last_survivor(merged, owner):
    survivor, twin = merged
    last = CustomerFactory(email="someone@example.com")
    customers_merge(survivor=last, merged=survivor, actor=owner, source="ui")
    assert list(customer_search(user=owner, query="cus_SECOND2")) == [last]


def test_the_survivors_360_shows_the_merged_records_ids_and_email(client, merged, owner):
    survivor, twin = merged
    client.force_login(owner)
    html = client.get(f"/customers/{survivor.public_id}/").content.decode()
    identity = html.split('id="links"')[1].split("</table>")[0]
    assert "cus_SECOND2" in identity and twin.public_id in identity and "ada.l@example.org" in identity
    assert "cus_FIRST1" in identity and "hs-777" in identity


def test_the_customer_list_search_finds_the_second_stripe_id(client, merged, owner):
    survivor, twin = merged
    client.force_login(owner)
    html = client.get("/customers/?q=cus_SECOND2").content.decode()
    assert survivor.public_id in html


def test_refund_and_subscription_requests_follow_a_merge_and_go_back_on_undo(owner):
    survivor, twin = CustomerFactory(email="a@example.com"), CustomerFactory(email="b@example.com")
    charge = ChargeFactory(customer=twin)
    refund = RefundRequest.objects.create(charge=charge, customer=twin, amount=500, currency="usd",
                                          reason="requested_by_customer", submit_token="tok-merge-1")
    sub = Subscription.objects.create(stripe_id="sub_merge1", customer=twin, status="active")
    change = SubscriptionChange.objects.create(subscription=sub, customer=twin, kind="cancel_at_period_end",
                                               submit_token="tok-merge-2")
    customers_merge(survivor=survivor, merged=twin, actor=owner, source="ui")
    refund.refresh_from_db(), change.refresh_from_db()
    assert (refund.customer_id, change.customer_id) == (survivor.pk, survivor.pk)

    customer_merge_undo(merge=CustomerMerge.objects.get(survivor=survivor), actor=owner, source="ui")
    refund.refresh_from_db(), change.refresh_from_db()
    assert (refund.customer_id, change.customer_id) == (twin.pk, twin.pk)
