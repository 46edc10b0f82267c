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
    helpers.assert_queries_flat(client, PAGES[screen]())
