"""Every form POST needs the CSRF token: a request without one is refused whoever sends it."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ChargeFactory, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(owner) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


def _targets() -> list[tuple[str, dict]]:
    charge = ChargeFactory()
    customer = CustomerFactory()
    other = UserFactory(role="support")
    return [
        (reverse("refund_confirm", args=[charge.customer.public_id]),
         {"charge": charge.stripe_id, "amount": "1.00", "reason": "duplicate", "token": "t" * 32}),
        (reverse("staff_role", args=[other.pk]), {"role": "owner"}),
        (reverse("staff_deactivate", args=[other.pk]), {}),
        (reverse("audit_export"), {}),
        (reverse("customer_assign", args=[customer.public_id]), {"assignee": other.pk}),
        (reverse("system_pause", args=["crm"]), {"reason": "test"}),
    ]


def test_a_post_without_a_csrf_token_is_refused(strict):
    from audit.models import AuditEvent

    for url, data in _targets():
        assert strict.post(url, data).status_code == 403, url
    assert not AuditEvent.objects.exists()


def test_an_htmx_post_with_the_token_in_the_header_is_accepted(strict):
    page = strict.get(reverse("staff_list"))
    token = page.cookies["csrftoken"].value
    other = UserFactory(role="support")
    response = strict.post(
        reverse("staff_role", args=[other.pk]), {"role": "finance"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200  # htmx gets a client redirect
    other.refresh_from_db()
    assert other.role == "finance"
