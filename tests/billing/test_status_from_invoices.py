"""An active subscription's customer follows the subscription's newest invoice: past due while its
payment failed, active again once a newer one is paid."""

import pytest

from customers.models import Customer, CustomerStatus
from tests import stripe_events as se

pytestmark = pytest.mark.django_db
T0 = 1_700_000_000


def _state() -> tuple[str, str]:
    customer = Customer.objects.get()
    return customer.status, customer.status_reason


def test_an_active_subscription_follows_its_newest_invoice(deliver):
    deliver(se.event("customer.subscription.created", se.subscription("sub_I", "cus_I", status="active"), created=T0))
    deliver(se.event("invoice.paid", se.invoice("in_I1", "cus_I", "sub_I", created=T0 + 10), created=T0 + 10))
    assert _state() == (CustomerStatus.ACTIVE, "Subscription sub_I is active")

    deliver(se.event("invoice.payment_failed", se.invoice("in_I2", "cus_I", "sub_I", status="open", created=T0 + 20),
                     created=T0 + 20))
    assert _state() == (CustomerStatus.PAST_DUE, "Invoice in_I2 payment failed")

    deliver(se.event("invoice.paid", se.invoice("in_I3", "cus_I", "sub_I", created=T0 + 30), created=T0 + 30))
    assert _state() == (CustomerStatus.ACTIVE, "Subscription sub_I is active")


def test_another_subscriptions_failed_invoice_does_not_make_the_customer_past_due(deliver):
    deliver(se.event("customer.subscription.created", se.subscription("sub_J", "cus_J", status="active"), created=T0))
    deliver(se.event("invoice.payment_failed", se.invoice("in_J1", "cus_J", "sub_OLD", status="open", created=T0 + 10),
                     created=T0 + 10))
    assert _state() == (CustomerStatus.ACTIVE, "Subscription sub_J is active")


def test_the_deciding_subscriptions_own_newest_invoice_counts_not_the_newest_subscriptions(deliver):
    # The newer subscription ended with its payment failing; the older one is live and paid.
    deliver(se.event("customer.subscription.created", se.subscription("sub_K1", "cus_K", status="active",
                                                                      created=T0), created=T0))
    deliver(se.event("invoice.paid", se.invoice("in_K1", "cus_K", "sub_K1", created=T0 + 10), created=T0 + 10))
    deliver(se.event("customer.subscription.deleted", se.subscription("sub_K2", "cus_K", status="canceled",
                                                                      created=T0 + 20), created=T0 + 40))
    deliver(se.event("invoice.payment_failed", se.invoice("in_K2", "cus_K", "sub_K2", status="open",
                                                          created=T0 + 30), created=T0 + 30))
    assert _state() == (CustomerStatus.ACTIVE, "Subscription sub_K1 is active")
