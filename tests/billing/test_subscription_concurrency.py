"""Subscription changes racing on PostgreSQL: the subscription row lock lets one change through at a time."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from billing.models import Subscription, SubscriptionChange
from billing.services.subscriptions import SubscriptionChangeError, subscription_change_request
from tests.factories import CustomerFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite runs one writer at a time, so there is no race to test")


def _race(calls) -> list:
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except SubscriptionChangeError as exc:
            return exc
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_people_changing_one_subscription_at_once_make_one_change():
    sub = Subscription.objects.create(stripe_id="sub_race", customer=CustomerFactory(), status="active",
                                      amount=4900, currency="usd", interval="month")
    a, b = UserFactory(), UserFactory()
    results = _race([
        lambda: subscription_change_request(subscription=sub, kind="cancel_at_period_end", actor=a,
                                            submit_token="race-token-a-0000001"),
        lambda: subscription_change_request(subscription=sub, kind="cancel_now", actor=b,
                                            submit_token="race-token-b-0000001"),
    ])
    assert sorted(type(r).__name__ for r in results) == ["SubscriptionChange", "SubscriptionChangeError"]
    assert SubscriptionChange.objects.count() == 1
