"""Every paged list pages with the one pager: on to the next page, back to the first."""

import re

import pytest
from django.urls import reverse

from core.paging import PAGE_SIZE
from tests import helpers

pytestmark = pytest.mark.django_db

LISTS = {
    "customer_list": lambda: helpers.customer(),
    "job_list": lambda: helpers.dead_job(),
    "event_list": lambda: helpers.failed_event(),
}


@pytest.mark.parametrize("name", LISTS)
def test_a_list_longer_than_a_page_pages_on_and_back(client, owner, name):
    for _ in range(PAGE_SIZE + 1):
        LISTS[name]()
    client.force_login(owner)
    first = client.get(reverse(name)).content.decode()
    assert "First page" not in first
    assert "Page 1 of 2" in first
    cursor = re.search(r'href="\?cursor=([^"&]+)&amp;page=2">Next page', first).group(1)
    second = client.get(reverse(name), {"cursor": cursor, "page": "2"}).content.decode()
    assert 'href="?">First page' in second and "Next page" not in second
    assert "Page 2 of 2" in second
    back = re.search(r'href="\?cursor=([^"&]+)&amp;page=1">Previous page', second).group(1)
    again = client.get(reverse(name), {"cursor": back, "page": "1"}).content.decode()
    assert "Page 1 of 2" in again and "Previous page" not in again and first.count("<tr") == again.count("<tr")
