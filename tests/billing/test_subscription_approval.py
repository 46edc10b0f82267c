"""Money above the refunds' approval limit waits for an owner; a cancel-now refund goes through the refund flow."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from billing.models import RefundStatus, SubscriptionChange
from billing.models import SubscriptionChangeStatus as Status
from billing.services.subscriptions import (
    SubscriptionChangeError,
    subscription_change_approve,
    subscription_change_reject,
    subscription_change_submit,
)
from billing.stripe_client import ProrationPreview
from tests.billing.subscription_fake import subs_fake  # noqa: F401 - fixture
from tests.billing.subscription_setup import live_sub, paid_sub, stripe_echo  # noqa: F401 - fixtures
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _cancel_now_with_refund(sub, actor):
    return subscription_change_submit(subscription=sub, kind="cancel_now", actor=actor,
                                      submit_token="token-cancel-now-0001", with_refund=True)


def test_cancel_now_refunds_the_unused_part_of_the_period_through_the_refund_flow(subs_fake, paid_sub, finance):
    change = _cancel_now_with_refund(paid_sub, finance)

    # twenty of thirty days unused: two thirds of 49.00, under the limit, so no approval
    assert change.refund_amount in (3266, 3267) and not change.needs_approval
    assert change.refund_request is not None
    refund = change.refund_request
    assert refund.status == RefundStatus.SUCCEEDED and refund.amount == change.refund_amount
    assert refund.requested_by == finance
    (sent,) = subs_fake.refunds.requests
    assert sent["form"]["amount"] == str(change.refund_amount)
    assert [r["method"] for r in subs_fake.requests] == ["DELETE"]


def test_a_refund_above_the_limit_waits_for_an_owner_and_nothing_is_sent(subs_fake, paid_sub, finance, settings):
    settings.REFUND_APPROVAL_THRESHOLD = 1000
    change = _cancel_now_with_refund(paid_sub, finance)

    assert change.status == Status.AWAITING_APPROVAL and change.needs_approval
    assert not subs_fake.requests and not subs_fake.refunds.requests


def test_the_owners_approval_sends_the_cancel_and_approves_its_refund(subs_fake, paid_sub, finance, owner, settings):
    settings.REFUND_APPROVAL_THRESHOLD = 1000
    change = _cancel_now_with_refund(paid_sub, finance)

    change = subscription_change_approve(change=change, actor=owner, note="Goodwill")

    assert change.status == Status.SENT and change.answered
    refund = change.refund_request
    assert refund.approver == owner and refund.status == RefundStatus.SUCCEEDED
    assert subs_fake.acted == 1 and len(subs_fake.refunds.refunds) == 1


def test_a_plan_change_charging_more_than_the_limit_waits_for_an_owner(subs_fake, live_sub, finance, settings):
    settings.REFUND_APPROVAL_THRESHOLD = 1000

    change = subscription_change_submit(
        subscription=live_sub, kind="change_plan", actor=finance, submit_token="token-plan-change-0001",
        price_id="price_enterprise_month", price_label="Enterprise", proration_date=timezone.now(),
        preview=ProrationPreview(due_now=3300, next_invoice=9900, currency="usd"),
    )
    assert change.status == Status.AWAITING_APPROVAL and not subs_fake.requests


def test_finance_cannot_approve_and_the_requester_cannot_approve_their_own(subs_fake, paid_sub, owner, settings):
    settings.REFUND_APPROVAL_THRESHOLD = 1000
    change = _cancel_now_with_refund(paid_sub, owner)
    with pytest.raises(SubscriptionChangeError, match="another owner"):
        subscription_change_approve(change=change, actor=owner)
    with pytest.raises(SubscriptionChangeError, match="Only an owner"):
        subscription_change_approve(change=change, actor=UserFactory(role="finance"))
    assert not subs_fake.requests


def test_a_rejection_needs_a_note_and_ends_the_request(subs_fake, paid_sub, finance, owner, settings):
    settings.REFUND_APPROVAL_THRESHOLD = 1000
    change = _cancel_now_with_refund(paid_sub, finance)
    with pytest.raises(SubscriptionChangeError, match="Say why"):
        subscription_change_reject(change=change, actor=owner, note="")

    subscription_change_reject(change=change, actor=owner, note="Keep them on the plan")

    change = SubscriptionChange.objects.get(pk=change.pk)
    assert change.status == Status.REJECTED and change.approver_note == "Keep them on the plan"
    assert not subs_fake.requests


def test_a_cancel_stripe_confirmed_without_a_reply_gets_its_refund_once(subs_fake, paid_sub, finance, deliver,
                                                                        client, settings):
    settings.STRIPE_READ_TIMEOUT = 0.5
    subs_fake.slow_first = 1.5
    change = _cancel_now_with_refund(paid_sub, finance)
    assert not change.answered and change.refund_request is None
    client.force_login(finance)
    detail = reverse("subscription_change_detail", args=[change.pk])
    waiting = client.get(detail).content.decode()
    assert re.search(rf'<button [^>]*data-confirm="Send “Cancel now” for {paid_sub.stripe_id} to Stripe again\?"'
                     r'[^>]*>Send again</button>', waiting)
    stripe_echo(deliver, subs_fake, paid_sub, "customer.subscription.deleted")
    change.refresh_from_db()
    assert change.status == Status.CONFIRMED and change.refund_request is None

    confirmed = client.get(detail).content.decode()
    assert re.search(r'<button [^>]*data-confirm="Refund [^"]+ through Stripe\?"[^>]*>Make the refund</button>', confirmed)
    client.post(reverse("subscription_change_send", args=[change.pk]))
    client.post(reverse("subscription_change_send", args=[change.pk]))

    change.refresh_from_db()
    assert change.refund_request.status == RefundStatus.SUCCEEDED
    assert len(subs_fake.refunds.refunds) == 1 and subs_fake.acted == 1
    assert "Make the refund" not in client.get(detail).content.decode()
