"""Stripe does not guarantee order and retries for days: the final state must not depend on it."""

import random

import pytest

from billing.models import Subscription
from customers.models import Customer, CustomerStatus, CustomerStatusChange, DistinctPair, ExternalLink
from tests import stripe_events as se
from tests.billing.state import final_state, reset_billing

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000


def test_an_older_event_never_overwrites_newer_state(deliver):
    deliver(se.event("customer.subscription.updated", se.subscription("sub_A", "cus_A", status="past_due"), created=T0 + 20))
    deliver(se.event("customer.subscription.updated", se.subscription("sub_A", "cus_A", status="active"), created=T0 + 10))
    assert Subscription.objects.get().status == "past_due"
    assert Customer.objects.get().status == CustomerStatus.PAST_DUE


def test_an_update_that_arrives_before_its_create_still_lands(deliver):
    deliver(se.event("customer.subscription.updated", se.subscription("sub_A", "cus_A", status="active"), created=T0 + 20))
    deliver(se.event("customer.subscription.created", se.subscription("sub_A", "cus_A", status="trialing"), created=T0 + 10))
    assert Subscription.objects.get().status == "active"
    assert Customer.objects.get().status == CustomerStatus.ACTIVE


def test_a_deletion_is_not_undone_by_a_late_update(deliver):
    deliver(se.event("customer.subscription.deleted", se.subscription("sub_A", "cus_A", status="canceled"), created=T0 + 20))
    deliver(se.event("customer.subscription.updated", se.subscription("sub_A", "cus_A", status="active"), created=T0 + 30))
    sub = Subscription.objects.get()
    assert sub.deleted and sub.status == "canceled"
    assert Customer.objects.get().status == CustomerStatus.CANCELED


def lifecycle(n: int) -> list[dict]:
    """One customer's history: signs up, trials, pays, fails a payment, recovers, refunds, disputes."""
    cus, sub, t = f"cus_L{n}", f"sub_L{n}", T0 + n * 1000
    return [
        se.event("customer.created", se.customer(cus, email=f"life{n}@example.com", name=f"Life {n}"), created=t),
        se.event("customer.subscription.created", se.subscription(sub, cus, status="trialing"), created=t + 1),
        se.event("customer.subscription.updated", se.subscription(sub, cus, status="active", amount=9900), created=t + 2),
        se.event("invoice.paid", se.invoice(f"in_L{n}a", cus, sub, status="paid", amount=9900), created=t + 3),
        se.event("charge.succeeded", se.charge(f"ch_L{n}", cus, amount=9900), created=t + 3),
        se.event("invoice.payment_failed", se.invoice(f"in_L{n}b", cus, sub, status="open", amount=9900), created=t + 4),
        se.event("customer.subscription.updated", se.subscription(sub, cus, status="past_due", amount=9900), created=t + 5),
        se.event("charge.refunded", se.charge(f"ch_L{n}", cus, amount=9900, amount_refunded=2000,
                                              refunds=[se.refund(f"re_L{n}", f"ch_L{n}", amount=2000)]), created=t + 6),
        se.event("charge.dispute.created", se.dispute(f"dp_L{n}", f"ch_L{n}", amount=7900), created=t + 7),
        se.event("customer.updated", se.customer(cus, email=f"life{n}@example.org", name=f"Life {n}"), created=t + 8),
    ]


def test_the_same_events_in_shuffled_orders_reach_the_same_final_state(deliver):
    events = [e for n in range(3) for e in lifecycle(n)]
    deliver_all = lambda batch: [deliver(e) for e in batch]  # noqa: E731
    deliver_all(events)
    expected = final_state()
    customer = Customer.objects.get(links__external_id="cus_L0")
    assert (customer.status, customer.mrr, customer.email) == (CustomerStatus.PAST_DUE, 9900, "life0@example.org")
    for seed in range(4):
        reset_billing()
        shuffled = events[:]
        random.Random(seed).shuffle(shuffled)
        deliver_all(shuffled)
        assert final_state() == expected, f"order with seed {seed} ended differently"


def test_each_status_change_is_recorded_with_the_event_that_caused_it(deliver):
    for evt in lifecycle(7)[:3]:
        deliver(evt)
    changes = list(CustomerStatusChange.objects.order_by("id").values_list("to_status", "source_event__type"))
    assert changes == [(CustomerStatus.ACTIVE, "customer.subscription.updated")]
    assert Customer.objects.get().status_reason == "Subscription sub_L7 is active"


def test_the_same_email_on_another_stripe_customer_flags_both_and_merges_nothing(deliver):
    deliver(se.event("customer.created", se.customer("cus_X1", email="twin@example.com"), created=T0))
    deliver(se.event("customer.created", se.customer("cus_X2", email="Twin@Example.com"), created=T0 + 1))
    first, second = Customer.objects.get(links__external_id="cus_X1"), Customer.objects.get(links__external_id="cus_X2")
    assert first.pk != second.pk and ExternalLink.objects.filter(system="stripe").count() == 2
    assert first.status == second.status == CustomerStatus.NEEDS_REVIEW
    assert second.public_id in first.review_reason and first.public_id in second.review_reason


def test_an_email_changed_to_another_customers_flags_both(deliver):
    # The customer's locking read says whether another customer has the email it had then: once the
    # event gives it a new email, that answer is not the new email's.
    deliver(se.event("customer.created", se.customer("cus_E1", email="first@example.com"), created=T0))
    deliver(se.event("customer.created", se.customer("cus_E2", email="second@example.com"), created=T0 + 1))
    deliver(se.event("customer.updated", se.customer("cus_E2", email="First@example.com"), created=T0 + 2))
    first, second = Customer.objects.get(links__external_id="cus_E1"), Customer.objects.get(links__external_id="cus_E2")
    assert first.status == second.status == CustomerStatus.NEEDS_REVIEW
    assert second.public_id in first.review_reason and first.public_id in second.review_reason


def test_a_twin_made_without_an_event_is_flagged_by_the_next_event_of_either(deliver):
    # Made outside event processing (an import writes rows directly): no check ran when it was written.
    deliver(se.event("customer.created", se.customer("cus_F1", email="same@example.com"), created=T0))
    twin = Customer.objects.create(email="same@example.com", name="Imported")
    deliver(se.event("customer.subscription.created", se.subscription("sub_F1", "cus_F1", status="active"),
                     created=T0 + 1))
    first = Customer.objects.get(links__external_id="cus_F1")
    twin.refresh_from_db()
    assert first.status == twin.status == CustomerStatus.NEEDS_REVIEW
    assert twin.public_id in first.review_reason

def test_customers_marked_as_different_people_are_not_flagged_again(deliver):
    deliver(se.event("customer.created", se.customer("cus_Y1", email="pat@example.com"), created=T0))
    deliver(se.event("customer.created", se.customer("cus_Y2", email="someone@example.com"), created=T0 + 1))
    a, b = Customer.objects.get(links__external_id="cus_Y1"), Customer.objects.get(links__external_id="cus_Y2")
    DistinctPair.objects.create(low=a, high=b)
    deliver(se.event("customer.updated", se.customer("cus_Y2", email="pat@example.com"), created=T0 + 2))
    assert {c.status for c in Customer.objects.all()} == {CustomerStatus.TRIAL}


def test_an_event_for_a_merged_customer_lands_on_the_survivor(deliver):
    deliver(se.event("customer.created", se.customer("cus_M1", email="m1@example.com"), created=T0))
    deliver(se.event("customer.created", se.customer("cus_M2", email="m2@example.com"), created=T0 + 1))
    survivor, tombstone = Customer.objects.get(links__external_id="cus_M1"), Customer.objects.get(links__external_id="cus_M2")
    tombstone.merged_into = survivor
    tombstone.save()
    deliver(se.event("customer.subscription.created", se.subscription("sub_M2", "cus_M2", status="active"), created=T0 + 2))
    assert Subscription.objects.get().customer == survivor
    survivor.refresh_from_db()
    assert survivor.status == CustomerStatus.ACTIVE


def test_a_refund_arriving_before_its_charge_gets_the_customer_when_the_charge_lands(deliver):
    deliver(se.event("charge.refund.updated", se.refund("re_O1", "ch_O1", amount=500), created=T0 + 5))
    deliver(se.event("charge.succeeded", se.charge("ch_O1", "cus_O1", amount=4900), created=T0))
    from billing.models import Refund

    assert Refund.objects.get().customer == Customer.objects.get(links__external_id="cus_O1")


@pytest.mark.parametrize("subscribed", [True, False], ids=["with a live subscription", "without one"])
def test_a_customer_deleted_in_stripe_is_canceled_whatever_its_subscriptions_say(deliver, subscribed):
    if subscribed:
        deliver(se.event("customer.subscription.created", se.subscription("sub_A", "cus_A", status="active"),
                         created=T0 + 10))
        assert Customer.objects.get().status == CustomerStatus.ACTIVE
    deliver(se.event("customer.deleted", se.customer("cus_A"), created=T0 + 20))
    customer = Customer.objects.get()
    assert customer.status == CustomerStatus.CANCELED
    assert customer.status_reason == "Customer deleted in Stripe"
