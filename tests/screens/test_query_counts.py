"""Each main page reads a fixed number of queries however many rows it shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import CustomerStatus, System
from tests.screens import helpers

pytestmark = pytest.mark.django_db


def _fill(n: int) -> None:
    for i in range(n):
        c = helpers.customer(status=CustomerStatus.NEEDS_REVIEW if i % 5 == 0 else CustomerStatus.PAST_DUE,
                             review_reason="Same email" if i % 5 == 0 else "")
        helpers.billing_rows(c)
        job = helpers.dead_job(c, system=[System.CRM, System.EMAIL, System.SUPPORT][i % 3])
        helpers.attempt(job)
        helpers.failed_event(c)


def _count(client, url: str, **headers) -> int:
    client.get(url, **headers)  # warm per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, url
    return len(queries)


def _the_customer():
    from customers.models import Customer

    return Customer.objects.order_by("pk").first()


PAGES = {
    "home": lambda: reverse("home"),
    "home refresh": lambda: reverse("home"),
    "my queue": lambda: reverse("home") + "?mine=1",
    "customers": lambda: reverse("customer_list"),
    "customer search": lambda: reverse("customer_list") + "?q=example",
    "customer 360": lambda: reverse("customer_detail", args=[_the_customer().public_id]),
    "jobs": lambda: reverse("job_list"),
    "dead jobs": lambda: reverse("job_list") + "?status=dead&system=crm",
    "systems": lambda: reverse("system_list"),
    "events": lambda: reverse("event_list"),
}


@pytest.mark.parametrize("screen", PAGES)
def test_query_count_does_not_grow_with_the_data(client, owner, screen):
    client.force_login(owner)
    headers = {"HTTP_HX_REQUEST": "true"} if screen == "home refresh" else {}
    _fill(5)
    small = _count(client, PAGES[screen](), **headers)
    _fill(45)
    if screen == "customer 360":  # the same customer, now with many more rows of every kind
        c = _the_customer()
        for _ in range(20):
            helpers.billing_rows(c)
            helpers.attempt(helpers.dead_job(c))
            helpers.failed_event(c)
    large = _count(client, PAGES[screen](), **headers)
    assert large == small, f"{screen}: {small} queries with 5 rows, {large} with 50"
