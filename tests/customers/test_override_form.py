"""The override form posts, redirects and gets: a reload never sends it again, refused or saved."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import CustomerStatus
from tests import helpers

pytestmark = pytest.mark.django_db


def test_a_saved_override_answers_with_a_redirect_to_the_page(client, owner):
    c = helpers.customer(status=CustomerStatus.PAST_DUE)
    client.force_login(owner)
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("customer_override", args=[c.public_id]),
                           {"status": "active", "reason": "Goodwill", "expires_at": future})
    assert response.status_code == 302 and response["Location"] == reverse("customer_detail", args=[c.public_id])


def test_a_refused_override_redirects_and_the_page_shows_what_was_typed_and_why(client, owner):
    c = helpers.customer(status=CustomerStatus.PAST_DUE)
    client.force_login(owner)
    past = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("customer_override", args=[c.public_id]),
                           {"status": "active", "reason": "Kept access for the launch", "expires_at": past})
    assert response.status_code == 302  # a reload of what follows is a GET
    assert response["Location"].startswith(reverse("customer_detail", args=[c.public_id]))
    page = client.get(response["Location"]).content.decode()
    assert "The override was not saved" in page and 'value="Kept access for the launch"' in page
    form = page.split('id="override-form"')[1].split("</form>")[0]
    assert "alert-danger" in form or "text-danger" in form
    again = client.get(reverse("customer_detail", args=[c.public_id])).content.decode()
    assert 'value="Kept access for the launch"' not in again  # shown once, not kept forever


def test_an_htmx_post_is_told_to_load_the_page(client, owner):
    c = helpers.customer(status=CustomerStatus.PAST_DUE)
    client.force_login(owner)
    response = client.post(reverse("customer_override", args=[c.public_id]), {"status": "active", "reason": ""},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].startswith(f"/customers/{c.public_id}")
