"""Stripe's requests are answered past the site's middleware (sessions, CSRF, CSP, users, audit,
lockouts), which serves pages and people; HTTPS redirects and Django's own 405 still apply."""

import pytest
from django.urls import reverse

from billing.models import StripeEvent
from billing.webhooks import DOOR_PATH
from tests import stripe_events as se

pytestmark = pytest.mark.django_db


def an_event() -> dict:
    return se.event("customer.created", se.customer(se.new_id("cus")))


def test_the_middleware_answers_at_the_doors_own_url():
    assert reverse("stripe_webhook") == DOOR_PATH


def test_the_door_answers_without_the_pages_middleware(client):
    response = se.post(client, an_event())
    assert response.status_code == 200 and StripeEvent.objects.count() == 1
    # What the skipped middleware would have added to any answer.
    assert "Content-Security-Policy" not in response.headers
    assert "X-Frame-Options" not in response.headers
    assert not response.cookies
    page = client.get("/accounts/login/")
    assert "Content-Security-Policy" in page.headers and "X-Frame-Options" in page.headers


def test_an_https_only_install_still_redirects_the_door_over_plain_http(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = se.post(client, an_event())
    assert response.status_code == 301 and response.headers["Location"].startswith("https://")
    assert not StripeEvent.objects.exists()


def test_the_door_still_takes_only_post(client):
    assert client.get(DOOR_PATH).status_code == 405
