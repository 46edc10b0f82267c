"""The customer list, search and 360 read a fixed number of queries however many rows they show."""

import pytest
from django.urls import reverse

from customers.models import Customer
from tests import helpers

pytestmark = pytest.mark.django_db


def _the_customer():
    return Customer.objects.order_by("pk").first()


PAGES = {
    "customers": lambda: reverse("customer_list"),
    "customer search": lambda: reverse("customer_list") + "?q=example",
    "customer 360": lambda: reverse("customer_detail", args=[_the_customer().public_id]),
}


@pytest.mark.parametrize("screen", PAGES)
def test_query_count_does_not_grow_with_the_data(client, owner, screen):
    client.force_login(owner)
    headers: dict = {}
    helpers.fill(5)
    small = helpers.count_queries(client, PAGES[screen](), **headers)
    helpers.fill(45)
    if screen == "customer 360":  # the same customer, now with many more rows of every kind
        c = _the_customer()
        for _ in range(20):
            helpers.billing_rows(c)
            helpers.attempt(helpers.dead_job(c))
            helpers.failed_event(c)
    large = helpers.count_queries(client, PAGES[screen](), **headers)
    assert large == small, f"{screen}: {small} queries with 5 rows, {large} with 50"
