"""The keyset pager in any order a list offers: every row once, in order, forwards and back."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from core.paging import keyset_page, sort_choice
from customers.models import Customer
from tests import helpers

pytestmark = pytest.mark.django_db


def _walk(qs, order: str, size: int) -> list[list[int]]:
    pages, cursor = [], ""
    while True:
        page = keyset_page(qs, cursor=cursor, size=size, order=order)
        pages.append([c.pk for c in page.rows])
        if not page.next_cursor:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("order", ["name", "-name", "-mrr", "mrr", "-created_at", "-pk"])
def test_pages_in_any_order_cover_every_row_once_in_that_order_ties_included(order):
    for n in range(11):
        helpers.customer(name=f"Name {n % 4}", mrr=(n % 3) * 1000)
    qs = Customer.objects.all()
    field = order.lstrip("-")
    tiebreak = "-pk" if order.startswith("-") else "pk"
    expected = list(qs.order_by(order, tiebreak).values_list("pk", flat=True))
    pages = _walk(qs, order, size=3)
    assert [pk for page in pages for pk in page] == expected
    assert len(pages) == 4 and field


def test_the_previous_page_is_the_page_before_and_the_first_has_none():
    for n in range(7):
        helpers.customer(name=f"Name {n}")
    qs = Customer.objects.all()
    first = keyset_page(qs, size=3, order="name")
    second = keyset_page(qs, cursor=first.next_cursor, size=3, order="name")
    third = keyset_page(qs, cursor=second.next_cursor, size=3, order="name")
    back_to_second = keyset_page(qs, cursor=third.prev_cursor, size=3, order="name")
    back_to_first = keyset_page(qs, cursor=back_to_second.prev_cursor, size=3, order="name")
    assert [c.pk for c in back_to_second.rows] == [c.pk for c in second.rows]
    assert [c.pk for c in back_to_first.rows] == [c.pk for c in first.rows]
    assert not first.prev_cursor and not back_to_first.prev_cursor
    assert back_to_second.next_cursor and back_to_second.prev_cursor
    assert (first.pages, len(third.rows), third.next_cursor) == (3, 1, "")


def test_a_list_sorts_only_by_the_columns_it_offers():
    params = RequestFactory().get("/", {"sort": "-name"}).GET
    assert sort_choice(params, {"name": "name"}, default="-pk") == ("-name", "-name")
    sneaky = RequestFactory().get("/", {"sort": "password"}).GET
    assert sort_choice(sneaky, {"name": "name"}, default="-pk") == ("", "-pk")


def test_the_customer_list_sorts_by_a_column_header_and_says_so(client, owner):
    for name in ["Bea", "Cal", "Abe"]:
        helpers.customer(name=name)
    client.force_login(owner)
    page = client.get(reverse("customer_list"), {"sort": "name"}).content.decode()
    assert page.index("Abe") < page.index("Bea") < page.index("Cal")
    assert 'aria-sort="ascending"' in page and 'href="?sort=-name"' in page
    page = client.get(reverse("customer_list"), {"sort": "-name"}).content.decode()
    assert page.index("Cal") < page.index("Bea") < page.index("Abe")


def test_applied_filters_show_as_chips_that_remove_themselves(client, owner):
    helpers.customer(name="Abe", status="past_due")
    client.force_login(owner)
    page = client.get(reverse("job_list"),
                      {"status": "dead", "system": "crm", "sort": "attempts"}).content.decode()
    assert 'id="filter-chips"' in page
    assert 'href="?system=crm&amp;sort=attempts"' in page  # the status chip: the rest stays
    assert 'href="?status=dead&amp;sort=attempts"' in page  # the system chip
    assert 'href="?sort=attempts">Clear all' in page
    plain = client.get(reverse("job_list")).content.decode()
    assert 'id="filter-chips"' not in plain
