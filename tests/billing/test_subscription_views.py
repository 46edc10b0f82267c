"""The subscription actions from the 360: who may, the confirmation page, the preview, the state on the 360."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import SubscriptionChange
from billing.models import SubscriptionChangeKind as Kind
from billing.models import SubscriptionChangeStatus as Status
from tests.billing.subscription_fake import subs_fake  # noqa: F401 - fixture
from tests.billing.subscription_setup import live_sub, stripe_echo  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _new(sub, kind):
    return reverse("subscription_change_new", args=[sub.pk, kind])


def _confirm(sub, kind):
    return reverse("subscription_change_confirm", args=[sub.pk, kind])


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def _360(client, sub) -> str:
    return client.get(reverse("customer_detail", args=[sub.customer.public_id])).content.decode()


@pytest.mark.parametrize("kind", Kind.values)
def test_support_is_refused_every_action_even_a_crafted_confirmation(client, support, subs_fake, live_sub, kind):
    client.force_login(support)
    crafted = {"token": "crafted-token-000000001", "price": "price_enterprise_month", "with_refund": "on",
               "resumes_on": "2099-01-01", "pause_behavior": "void", "trial_ends_on": "2099-01-01",
               "proration_date": "0"}
    assert client.get(_new(live_sub, kind)).status_code == 403
    assert client.post(_new(live_sub, kind), crafted).status_code == 403
    assert client.post(_confirm(live_sub, kind), crafted).status_code == 403
    assert not SubscriptionChange.objects.exists() and not subs_fake.requests


def test_support_sees_no_action_buttons_on_the_360(client, support, subs_fake, live_sub):
    client.force_login(support)
    assert 'data-action="' not in _360(client, live_sub)


def test_the_confirmation_repeats_customer_subscription_change_and_money(client, finance, subs_fake, live_sub):
    client.force_login(finance)
    html = client.get(_new(live_sub, "cancel_at_period_end")).content.decode()

    assert "Pat Payer" in html and live_sub.customer.public_id in html and live_sub.stripe_id in html
    assert "stays active until" in html and "Nothing is refunded." in html
    assert not subs_fake.requests  # nothing happens before the confirmation is posted


def test_cancel_at_period_end_from_the_360_and_its_webhook(client, finance, subs_fake, live_sub, deliver):
    client.force_login(finance)
    assert f'href="{_new(live_sub, "cancel_at_period_end")}"' in _360(client, live_sub)
    token = _token(client.get(_new(live_sub, "cancel_at_period_end")).content.decode())

    response = client.post(_confirm(live_sub, "cancel_at_period_end"), {"token": token, "note": "asked by email"})

    assert response.status_code == 302 and response.url.endswith("#subscriptions")
    change = SubscriptionChange.objects.get()
    assert change.status == Status.SENT and change.note == "asked by email"
    page = _360(client, live_sub)
    assert "sent to stripe" in page  # the request's state on its subscription ...
    assert f"Cancel at period end on {live_sub.stripe_id} requested" in page  # ... and on the timeline

    stripe_echo(deliver, subs_fake, live_sub)
    page = _360(client, live_sub)
    assert "confirmed by stripe" in page and "cancels at period end" in page
    assert "Stripe confirms: Cancel at period end" in page
    assert 'data-action="undo_cancel"' in page


def test_a_double_submit_of_the_confirmation_changes_once(client, finance, subs_fake, live_sub):
    client.force_login(finance)
    token = _token(client.get(_new(live_sub, "cancel_at_period_end")).content.decode())
    client.post(_confirm(live_sub, "cancel_at_period_end"), {"token": token})
    client.post(_confirm(live_sub, "cancel_at_period_end"), {"token": token})

    assert SubscriptionChange.objects.count() == 1 and subs_fake.acted == 1


def test_change_plan_shows_stripes_preview_before_confirming(client, finance, subs_fake, live_sub):
    client.force_login(finance)
    form = client.get(_new(live_sub, "change_plan")).content.decode()
    assert "Enterprise · 99.00 USD/month" in form and 'value="price_pro_month"' not in form

    page = client.post(_new(live_sub, "change_plan"), {"price": "price_enterprise_month"}).content.decode()

    assert "Due now: 12.00 USD" in page and "Next invoice: 99.00 USD" in page
    (preview,) = [r for r in subs_fake.requests if r["path"] == "/v1/invoices/create_preview"]
    assert preview["form"]["subscription_details[items][0][price]"] == "price_enterprise_month"
    moment = re.search(r'name="proration_date" value="(\d+)"', page).group(1)
    assert preview["form"]["subscription_details[proration_date]"] == moment
    assert not SubscriptionChange.objects.exists()

    client.post(_confirm(live_sub, "change_plan"), {"price": "price_enterprise_month", "token": _token(page),
                                                    "proration_date": moment})
    change = SubscriptionChange.objects.get()
    assert (change.due_now, change.next_invoice) == (1200, 9900)
    (update,) = [r for r in subs_fake.requests if r["path"].startswith("/v1/subscriptions/")]
    assert update["form"]["proration_date"] == moment


def test_pause_collection_asks_for_a_future_resume_date(client, finance, subs_fake, live_sub):
    client.force_login(finance)
    past = client.post(_new(live_sub, "pause_collection"), {"resumes_on": "2020-01-01", "pause_behavior": "void"})
    assert past.status_code == 422 and "Choose a day after today." in past.content.decode()

    day = (timezone.localdate() + timedelta(days=10)).isoformat()
    page = client.post(_new(live_sub, "pause_collection"), {"resumes_on": day, "pause_behavior": "void"})
    assert "Payment collection pauses until" in page.content.decode()


def test_without_a_stripe_key_the_action_says_so_before_any_form(client, finance, live_sub, settings):
    settings.STRIPE_API_KEY = ""
    client.force_login(finance)
    assert "Stripe is not connected" in _360(client, live_sub)
    html = client.get(_new(live_sub, "change_plan")).content.decode()
    assert "Stripe is not connected" in html and 'name="price"' not in html

    client.post(_confirm(live_sub, "cancel_at_period_end"), {"token": "a-token-of-twenty-chars"})
    assert not SubscriptionChange.objects.exists()


def test_the_owner_approves_from_the_request_page(client, finance, owner, subs_fake, live_sub, settings):
    settings.REFUND_APPROVAL_THRESHOLD = 1000
    client.force_login(finance)
    page = client.post(_new(live_sub, "change_plan"), {"price": "price_enterprise_month"}).content.decode()
    assert "above the approval limit" in page
    moment = re.search(r'name="proration_date" value="(\d+)"', page).group(1)
    client.post(_confirm(live_sub, "change_plan"),
                {"price": "price_enterprise_month", "token": _token(page), "proration_date": moment})
    change = SubscriptionChange.objects.get()
    assert change.status == Status.AWAITING_APPROVAL
    state = _360(client, live_sub).split(f'id="subscription-actions-{live_sub.pk}"')[1].split("</tr>")[0]
    assert "awaiting approval" in state and 'data-action="' not in state  # no second change while it waits

    client.force_login(owner)
    queue = client.get(reverse("home")).content.decode()
    assert f"Change plan of {live_sub.stripe_id} waits for your approval" in queue
    assert reverse("subscription_change_detail", args=[change.pk]) in queue
    detail = client.get(reverse("subscription_change_detail", args=[change.pk])).content.decode()
    decisions = re.findall(r"<button [^>]*formaction=[^>]*>", detail)
    assert len(decisions) == 2 and all('data-confirm="' in button for button in decisions)
    assert f"Approve “Change plan” for {live_sub.stripe_id} and send it to Stripe?" in detail
    assert f"Reject “Change plan” for {live_sub.stripe_id}? Nothing is sent to Stripe." in detail
    client.post(reverse("subscription_change_approve", args=[change.pk]), {"note": "fine"})

    change.refresh_from_db()
    assert change.status == Status.SENT and change.approver == owner


def test_an_action_the_subscription_cannot_take_is_explained_before_the_confirmation(client, finance, subs_fake,
                                                                                      live_sub):
    client.force_login(finance)
    response = client.get(_new(live_sub, "undo_cancel"))

    assert response.status_code == 422
    html = response.content.decode()
    assert "no pending cancellation to undo" in html and 'name="token"' not in html


def test_every_step_is_on_the_audit_trail_finance_reads(client, owner, finance, support, subs_fake, live_sub):
    client.force_login(owner)  # asked by the owner: finance reads it as a billing action, support does not
    client.post(_confirm(live_sub, "cancel_at_period_end"), {"token": _token(
        client.get(_new(live_sub, "cancel_at_period_end")).content.decode())})

    client.force_login(finance)
    page = client.get(reverse("audit_list"), headers={"HX-Request": "true"}).content.decode()
    for step in ("subscription_change.requested", "subscription_change.sent", "subscription_change.accepted"):
        assert step in page
    client.force_login(support)
    page = client.get(reverse("audit_list"), headers={"HX-Request": "true"}).content.decode()
    assert "subscription_change." not in page


def test_a_change_stripe_refuses_shows_failed_with_stripes_sentence_on_the_360(client, finance, subs_fake, live_sub):
    subs_fake.error = (400, "resource_missing", "No such price: 'price_gone'")
    client.force_login(finance)
    token = _token(client.get(_new(live_sub, "cancel_at_period_end")).content.decode())
    client.post(_confirm(live_sub, "cancel_at_period_end"), {"token": token})

    assert SubscriptionChange.objects.get().status == Status.FAILED
    page = _360(client, live_sub)
    state = page.split(f'id="subscription-actions-{live_sub.pk}"')[1].split("</tr>")[0]
    assert ">failed</span>" in state
    assert "Stripe does not know this subscription or price (was it made in the other mode" in state
    assert 'data-action="cancel_at_period_end"' in state  # a failed change leaves the actions open again
    timeline = page.split('id="timeline"')[1]
    assert f"Cancel at period end on {live_sub.stripe_id}: Stripe does not know this subscription" in timeline


def test_a_price_switchboard_has_not_seen_is_refused_even_in_a_crafted_confirmation(client, finance, subs_fake,
                                                                                     live_sub):
    client.force_login(finance)
    form = client.post(_new(live_sub, "change_plan"), {"price": "price_never_seen"})
    assert form.status_code == 422 and "not one of the available choices" in form.content.decode()
    now = str(int(timezone.now().timestamp()))
    client.post(_confirm(live_sub, "change_plan"),
                {"price": "price_never_seen", "token": "crafted-token-000000002", "proration_date": now})
    assert not SubscriptionChange.objects.exists() and not subs_fake.requests
