"""The navigation's search box: one match opens the customer, anything else lists what matched."""

import pytest
from django.urls import reverse

from tests import helpers

pytestmark = pytest.mark.django_db

LIST = reverse("customer_list")


def test_a_search_from_the_navigation_opens_the_one_customer_it_matches(client, support):
    one = helpers.customer(email="grace@navy.example")
    helpers.customer(email="ada@example.com")
    client.force_login(support)
    response = client.get(LIST, {"q": "grace@navy.example", "go": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("customer_detail", args=[one.public_id])


def test_a_search_from_the_navigation_by_an_outside_id_opens_its_customer(client, finance):
    one = helpers.customer()
    stripe_id = one.links.get().external_id
    client.force_login(finance)
    response = client.get(LIST, {"q": stripe_id, "go": "1"})
    assert response["Location"] == reverse("customer_detail", args=[one.public_id])


def test_a_search_from_the_navigation_with_several_matches_lists_them(client, owner):
    helpers.customer(name="Grace Hopper")
    helpers.customer(name="Grace Kelly")
    client.force_login(owner)
    response = client.get(LIST, {"q": "grace", "go": "1"})
    assert response.status_code == 200
    assert "2 customers" in response.content.decode()


def test_a_search_from_the_navigation_with_no_match_says_so(client, owner):
    helpers.customer(name="Grace Hopper")
    client.force_login(owner)
    response = client.get(LIST, {"q": "nobody-like-this", "go": "1"})
    assert response.status_code == 200
    assert "No customer matches" in response.content.decode()


def test_the_customers_page_search_lists_a_single_match_without_jumping(client, owner):
    helpers.customer(name="Grace Hopper")
    client.force_login(owner)
    response = client.get(LIST, {"q": "grace"})
    assert response.status_code == 200
    assert "1 customer" in response.content.decode()


def test_a_search_from_the_navigation_never_opens_a_customer_hidden_from_the_searcher(client, support):
    helpers.customer(name="Grace Hopper", restricted=True)
    client.force_login(support)
    response = client.get(LIST, {"q": "grace", "go": "1"})
    assert response.status_code == 200
    assert "Grace Hopper" not in response.content.decode()


def test_every_signed_in_page_offers_the_search_box_to_who_may_see_customers(client, support):
    client.force_login(support)
    page = client.get(reverse("job_list")).content.decode()
    assert 'id="nav-q"' in page and 'name="go" value="1"' in page
