"""After a row is resolved in place, the group's count and the page's total follow at once."""

import re

import pytest

from billing.models import Invoice
from tests import helpers

pytestmark = pytest.mark.django_db


def test_resolving_a_failed_payment_updates_its_count_and_the_total(client, finance):
    for _ in range(3):
        helpers.billing_rows(helpers.customer())
    client.force_login(finance)
    home = client.get("/").content.decode()
    assert home.count("qcount-failed_payment") == 2  # the summary and the group header
    row = re.search(r'<li class="list-group-item queue-item" id="item-failed-payment-(\d+)"([^>]*)>', home)
    assert row and '"group": "failed_payment"' in row.group(2)
    invoice = Invoice.objects.get(pk=row.group(1))
    response = client.post(f"/queue/failed_payment/{invoice.pk}/resolve/", {"note": "card updated", "group": "failed_payment"},
                           HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "Resolved by you" in html
    assert re.search(r'hx-swap-oob="innerHTML:\.qcount-failed_payment">2<', html)
    total = int(re.search(r'hx-swap-oob="innerHTML:#queue-total">(\d+)<', html).group(1))
    assert total == int(re.search(r'id="queue-total">(\d+)<', home).group(1)) - 1
