"""Status derivation's rules on plain values: no database (pytest-django refuses it here)."""

from customers.models import CustomerStatus
from customers.status import (
    DerivedState,
    SubscriptionFacts,
    current_subscription,
    monthly_amount,
    state_with_subscription,
    state_without_subscription,
)


def _sub(stripe_id: str, status: str, **kw) -> SubscriptionFacts:
    return SubscriptionFacts(stripe_id, status, **{"amount": 4900, "plan_name": "Pro", "currency": "eur", **kw})


def test_the_newest_live_subscription_decides_over_a_newer_ended_one():
    newest_ended, live = _sub("sub_3", "canceled"), _sub("sub_2", "active")
    assert current_subscription([newest_ended, live, _sub("sub_1", "active")]) == live
    assert current_subscription([newest_ended, _sub("sub_1", "incomplete_expired")]) == newest_ended
    deleted = _sub("sub_4", "active", deleted=True)
    assert current_subscription([deleted, newest_ended]) == deleted
    assert current_subscription([]) is None


def test_each_subscription_status_maps_to_one_customer_status():
    expected = {"trialing": "trial", "active": "active", "past_due": "past_due", "unpaid": "past_due",
                "incomplete": "past_due", "incomplete_expired": "canceled", "canceled": "canceled",
                "paused": "canceled", "something_new": "active"}
    got = {s: state_with_subscription(_sub("sub_1", s), failed_invoice=None, currency="").status for s in expected}
    assert got == expected


def test_a_failed_invoice_makes_an_active_subscription_past_due_and_nothing_else():
    assert state_with_subscription(_sub("sub_1", "active"), failed_invoice="in_9", currency="eur") == DerivedState(
        CustomerStatus.PAST_DUE, "Invoice in_9 payment failed", "Pro", 4900, "eur")
    assert state_with_subscription(_sub("sub_1", "trialing"), failed_invoice="in_9", currency="").status == "trial"


def test_a_deleted_or_ended_subscription_leaves_no_plan_and_no_revenue():
    state = state_with_subscription(_sub("sub_1", "active", deleted=True), failed_invoice=None, currency="usd")
    assert (state.status, state.plan, state.mrr, state.currency) == ("canceled", "", 0, "eur")


def test_revenue_is_monthly_whatever_the_interval():
    assert monthly_amount(12000, "year", 1) == 1000
    assert monthly_amount(3000, "month", 3) == 1000
    assert monthly_amount(1000, "week", 1) == round(1000 * 52 / 12)
    assert state_with_subscription(_sub("sub_1", "active", amount=12000, interval="year"),
                                   failed_invoice=None, currency="").mrr == 1000


def test_without_a_subscription_a_failed_invoice_then_a_settled_payment_decide():
    assert state_without_subscription(failed_invoice="in_1", settled_payment=True, currency="eur").status == "past_due"
    assert state_without_subscription(failed_invoice=None, settled_payment=True, currency="eur").status == "active"
    assert state_without_subscription(failed_invoice=None, settled_payment=False, currency="eur").status == "trial"
