"""The webhook event log reads a fixed number of queries however many rows it shows."""

import pytest
from django.urls import reverse

from tests import helpers

pytestmark = pytest.mark.django_db

PAGES = {
    "events": lambda: reverse("event_list"),
}


@pytest.mark.parametrize("screen", PAGES)
def test_query_count_does_not_grow_with_the_data(client, owner, screen):
    client.force_login(owner)
    headers: dict = {}
    helpers.fill(5)
    small = helpers.count_queries(client, PAGES[screen](), **headers)
    helpers.fill(45)
    large = helpers.count_queries(client, PAGES[screen](), **headers)
    assert large == small, f"{screen}: {small} queries with 5 rows, {large} with 50"
