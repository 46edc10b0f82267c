"""The job log and the systems page read a fixed number of queries however many rows they show."""

import pytest
from django.urls import reverse

from tests import helpers

pytestmark = pytest.mark.django_db

PAGES = {
    "jobs": lambda: reverse("job_list"),
    "dead jobs": lambda: reverse("job_list") + "?status=dead&system=crm",
    "systems": lambda: reverse("system_list"),
}


@pytest.mark.parametrize("screen", PAGES)
def test_query_count_does_not_grow_with_the_data(client, owner, screen):
    client.force_login(owner)
    helpers.assert_queries_flat(client, PAGES[screen]())
