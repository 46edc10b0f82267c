"""The refund screens: form, confirmation, double submit, approval queue, and who may do what."""

import re

import pytest
from django.urls import reverse

from billing.models import RefundRequest, RefundStatus
from billing.services.refunds import refund_request
from tests.billing.stripe_fake import stripe_fake  # noqa: F401 - fixture
from tests.factories import ChargeFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def threshold(settings):
    settings.REFUND_APPROVAL_THRESHOLD = 10000
    settings.STRIPE_API_KEY = settings.STRIPE_API_KEY or "sk_test_refund_views"  # the form needs Stripe connected


def _confirm_page(client, charge, amount=""):
    url = reverse("refund_new", args=[charge.customer.public_id])
    return client.post(url, {"charge": charge.stripe_id, "amount": amount, "reason": "duplicate", "note": "twice"})


def _token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def test_the_confirmation_repeats_customer_amount_and_currency_and_defaults_to_all(client, finance):
    charge = ChargeFactory(amount=4900, amount_refunded=900, customer=CustomerFactory(name="Ada Lovelace"))
    client.force_login(finance)
    response = _confirm_page(client, charge)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ada Lovelace" in page and "40.00 USD" in page and ">USD<" in page
    assert not RefundRequest.objects.exists()  # nothing is written before the confirmation


def test_confirming_refunds_once_even_when_submitted_twice(client, finance, stripe_fake):
    charge = ChargeFactory(amount=4900)
    client.force_login(finance)
    confirm = _confirm_page(client, charge, "12.50")
    data = {"charge": charge.stripe_id, "amount": "12.50", "reason": "duplicate", "note": "twice", "token": _token(confirm)}
    url = reverse("refund_confirm", args=[charge.customer.public_id])
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    request = RefundRequest.objects.get()
    assert (request.amount, request.status) == (1250, RefundStatus.SUCCEEDED)
    assert stripe_fake.created == 1 and len(stripe_fake.requests) == 1


def test_an_amount_over_what_is_refundable_is_refused_with_a_sentence(client, finance, stripe_fake):
    charge = ChargeFactory(amount=4900)
    client.force_login(finance)
    url = reverse("refund_confirm", args=[charge.customer.public_id])
    data = {"charge": charge.stripe_id, "amount": "60.00", "reason": "duplicate", "note": "", "token": "x" * 32}
    response = client.post(url, data, follow=True)
    assert "At most 49.00 USD can still be refunded" in response.content.decode()
    assert not RefundRequest.objects.exists() and stripe_fake.created == 0


def test_a_stripe_refusal_is_shown_as_a_sentence(client, finance, stripe_fake):
    charge = ChargeFactory(amount=4900)
    stripe_fake.errors[charge.stripe_id] = "charge_disputed"
    client.force_login(finance)
    url = reverse("refund_confirm", args=[charge.customer.public_id])
    data = {"charge": charge.stripe_id, "amount": "10.00", "reason": "duplicate", "note": "", "token": "y" * 32}
    page = client.post(url, data, follow=True).content.decode()
    assert "Stripe does not allow a refund while the dispute is open" in page
    assert RefundRequest.objects.get().status == RefundStatus.FAILED


def test_a_large_refund_waits_in_the_owners_queue_and_is_sent_on_approval(client, finance, owner, stripe_fake):
    charge = ChargeFactory(amount=50000)
    request = refund_request(charge=charge, amount=20000, reason="duplicate", note="", actor=finance)
    assert stripe_fake.created == 0
    client.force_login(owner)
    home = client.get(reverse("home")).content.decode()
    assert "Refunds waiting for approval" in home and reverse("refund_detail", args=[request.pk]) in home
    queue = client.get(reverse("refund_list"), {"status": "awaiting_approval"}).content.decode()
    assert reverse("refund_detail", args=[request.pk]) in queue
    client.post(reverse("refund_approve", args=[request.pk]), {"note": "fine"})
    request.refresh_from_db()
    assert request.status == RefundStatus.SUCCEEDED and request.approver == owner
    assert stripe_fake.created == 1


def test_the_requester_gets_no_approve_button_and_a_crafted_approval_is_refused(client, owner, stripe_fake):
    request = refund_request(charge=ChargeFactory(amount=50000), amount=20000, reason="duplicate", note="", actor=owner)
    client.force_login(owner)
    assert "Approve and refund" not in client.get(reverse("refund_detail", args=[request.pk])).content.decode()
    page = client.post(reverse("refund_approve", args=[request.pk]), follow=True).content.decode()
    assert "another owner has to approve" in page
    request.refresh_from_db()
    assert request.status == RefundStatus.AWAITING_APPROVAL and stripe_fake.created == 0


def test_support_cannot_refund_even_with_a_crafted_request(client, support, stripe_fake):
    charge = ChargeFactory()
    client.force_login(support)
    url = reverse("refund_confirm", args=[charge.customer.public_id])
    data = {"charge": charge.stripe_id, "amount": "10.00", "reason": "duplicate", "note": "", "token": "z" * 32}
    assert client.post(url, data).status_code == 403
    assert client.get(reverse("refund_new", args=[charge.customer.public_id])).status_code == 403
    assert not RefundRequest.objects.exists() and stripe_fake.created == 0


def test_finance_cannot_approve(client, finance, owner):
    request = refund_request(charge=ChargeFactory(amount=50000), amount=20000, reason="duplicate", note="", actor=owner)
    client.force_login(finance)
    assert client.post(reverse("refund_approve", args=[request.pk])).status_code == 403
    assert client.post(reverse("refund_reject", args=[request.pk]), {"note": "no"}).status_code == 403


def test_a_restricted_customer_cannot_be_refunded_by_staff_it_is_not_assigned_to(client, finance):
    charge = ChargeFactory(customer=CustomerFactory(restricted=True))
    client.force_login(finance)
    assert client.get(reverse("refund_new", args=[charge.customer.public_id])).status_code == 403


def test_the_customer_360_links_to_the_refund_form_for_finance_only(client, finance, support):
    charge = ChargeFactory()
    url = reverse("customer_detail", args=[charge.customer.public_id])
    client.force_login(finance)
    assert reverse("refund_new", args=[charge.customer.public_id]) in client.get(url).content.decode()
    client.force_login(support)
    assert reverse("refund_new", args=[charge.customer.public_id]) not in client.get(url).content.decode()


def test_the_first_step_refuses_more_than_is_refundable(client, finance):
    charge = ChargeFactory(amount=4900)
    client.force_login(finance)
    response = _confirm_page(client, charge, "50.00")
    assert response.status_code == 422
    assert "At most 49.00 USD can still be refunded" in response.content.decode()



def test_a_zero_decimal_currency_is_refunded_in_its_own_units(client, finance, stripe_fake):
    charge = ChargeFactory(amount=5000, currency="jpy")
    client.force_login(finance)
    confirm = _confirm_page(client, charge, "1500")
    assert "1,500 JPY" in confirm.content.decode()
    data = {"charge": charge.stripe_id, "amount": "1500", "reason": "duplicate", "note": "", "token": _token(confirm)}
    client.post(reverse("refund_confirm", args=[charge.customer.public_id]), data)
    assert RefundRequest.objects.get().amount == 1500  # yen have no smaller unit: not 150000


def test_a_three_decimal_currency_is_confirmed_and_refunded_in_its_own_units(client, finance, stripe_fake):
    charge = ChargeFactory(amount=5000, currency="kwd")
    client.force_login(finance)
    confirm = _confirm_page(client, charge, "1.5")
    amount = re.search(r'name="amount" value="([^"]+)"', confirm.content.decode()).group(1)
    data = {"charge": charge.stripe_id, "amount": amount, "reason": "duplicate", "note": "", "token": _token(confirm)}
    client.post(reverse("refund_confirm", args=[charge.customer.public_id]), data)
    assert RefundRequest.objects.get().amount == 1500  # 1.500 KWD: a dinar has 1000 fils


def test_a_fraction_the_currency_does_not_have_is_refused(client, finance):
    charge = ChargeFactory(amount=5000, currency="jpy")
    client.force_login(finance)
    response = _confirm_page(client, charge, "1500.50")
    assert response.status_code == 422 and "JPY has no amounts smaller than 1" in response.content.decode()
    assert not RefundRequest.objects.exists()


def test_a_confirmation_with_a_fraction_the_currency_lacks_says_so_instead_of_failing(client, finance, stripe_fake):
    charge = ChargeFactory(amount=5000, currency="jpy")
    client.force_login(finance)
    data = {"charge": charge.stripe_id, "amount": "10.50", "reason": "duplicate", "note": "", "token": "x" * 32}
    response = client.post(reverse("refund_confirm", args=[charge.customer.public_id]), data)
    assert response.status_code == 302 and not RefundRequest.objects.exists()
