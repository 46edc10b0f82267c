"""Each subscription action makes exactly one Stripe call, with the body Stripe expects and a key from the row."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import Subscription, SubscriptionChange
from billing.models import SubscriptionChangeStatus as Status
from billing.services.subscriptions import (
    SubscriptionChangeError,
    subscription_change_execute,
    subscription_change_submit,
    subscription_changes_resend_unanswered,
)
from tests import stripe_events as se
from tests.billing.subscription_fake import subs_fake  # noqa: F401 - fixture
from tests.billing.subscription_setup import DAY, live_sub, stripe_echo  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _submit(sub, kind, actor, token="token-0123456789abcdef", **terms):
    return subscription_change_submit(subscription=sub, kind=kind, actor=actor, submit_token=token, **terms)


def _changes(fake):
    return [r for r in fake.requests if r["path"].startswith("/v1/subscriptions/")]


def test_cancel_at_period_end_sends_the_flag_under_the_rows_key(subs_fake, live_sub, finance):
    change = _submit(live_sub, "cancel_at_period_end", finance)

    (sent,) = _changes(subs_fake)
    assert sent["method"] == "POST" and sent["path"] == f"/v1/subscriptions/{live_sub.stripe_id}"
    assert sent["form"] == {"cancel_at_period_end": "true"}
    assert sent["key"] == f"subscription-change-{change.pk}"
    assert change.status == Status.SENT and change.answered
    live_sub.refresh_from_db()
    assert not live_sub.cancel_at_period_end  # the mirror waits for Stripe's webhook


def test_undo_cancel_sends_the_flag_off(subs_fake, live_sub, finance, deliver):
    subs_fake.subscriptions[live_sub.stripe_id]["cancel_at_period_end"] = True
    stripe_echo(deliver, subs_fake, live_sub)
    live_sub.refresh_from_db()

    _submit(live_sub, "undo_cancel", finance)

    assert _changes(subs_fake)[0]["form"] == {"cancel_at_period_end": "false"}


def test_cancel_now_is_one_delete_without_proration(subs_fake, live_sub, finance):
    _submit(live_sub, "cancel_now", finance)

    (sent,) = _changes(subs_fake)
    assert sent["method"] == "DELETE" and sent["form"] == {}


def test_change_plan_moves_the_one_item_at_the_previewed_moment(subs_fake, live_sub, finance):
    moment = timezone.now().replace(microsecond=0)
    _submit(live_sub, "change_plan", finance, price_id="price_enterprise_month", price_label="Enterprise",
            proration_date=moment)

    assert _changes(subs_fake)[0]["form"] == {
        "items[0][id]": f"si_{live_sub.stripe_id}",
        "items[0][price]": "price_enterprise_month",
        "proration_behavior": "always_invoice",
        "proration_date": str(int(moment.timestamp())),
    }


def test_pause_and_resume_collection(subs_fake, live_sub, finance, deliver):
    resumes = (timezone.now() + timedelta(days=14)).replace(microsecond=0)
    change = _submit(live_sub, "pause_collection", finance, pause_behavior="void", resumes_at=resumes)
    assert _changes(subs_fake)[0]["form"] == {
        "pause_collection[behavior]": "void", "pause_collection[resumes_at]": str(int(resumes.timestamp())),
    }
    stripe_echo(deliver, subs_fake, live_sub)
    change.refresh_from_db()
    assert change.status == Status.CONFIRMED
    live_sub.refresh_from_db()
    assert live_sub.data["pause_collection"]["behavior"] == "void"

    _submit(live_sub, "resume_collection", finance, token="token-second-submit-000")
    assert _changes(subs_fake)[1]["form"] == {"pause_collection": ""}


def test_extend_trial_moves_the_trial_end_without_proration(subs_fake, finance, deliver):
    now = int(time.time())
    cid, sid = se.new_id("cus"), se.new_id("sub")
    deliver(se.event("customer.created", se.customer(cid, email="trial@example.com")))
    obj = se.subscription(sid, cid, status="trialing", trial_start=now - DAY, trial_end=now + 6 * DAY,
                          current_period_start=now - DAY, current_period_end=now + 6 * DAY)
    deliver(se.event("customer.subscription.created", obj))
    subs_fake.add(obj)
    sub = Subscription.objects.get(stripe_id=sid)
    new_end = (timezone.now() + timedelta(days=20)).replace(microsecond=0)

    _submit(sub, "extend_trial", finance, trial_end=new_end)

    assert _changes(subs_fake)[0]["form"] == {"trial_end": str(int(new_end.timestamp())), "proration_behavior": "none"}


def test_a_double_submit_is_one_change_and_one_call(subs_fake, live_sub, finance):
    first = _submit(live_sub, "cancel_at_period_end", finance)
    second = _submit(live_sub, "cancel_at_period_end", finance)

    assert second.pk == first.pk
    assert len(_changes(subs_fake)) == 1 and subs_fake.acted == 1
    assert SubscriptionChange.objects.count() == 1


def test_a_timeout_after_stripe_acted_is_resent_under_the_same_key(subs_fake, live_sub, finance, settings):
    settings.STRIPE_READ_TIMEOUT = 0.5
    subs_fake.slow_first = 1.5
    change = _submit(live_sub, "cancel_at_period_end", finance)
    assert change.status == Status.SENT and not change.answered
    assert "may or may not" in change.error
    assert AuditEvent.objects.filter(action="subscription_change.unconfirmed").exists()

    again = subscription_change_execute(change=change, actor=finance)

    assert again.answered and again.status == Status.SENT and not again.error
    assert subs_fake.acted == 1  # Stripe replayed its first answer
    assert {r["key"] for r in _changes(subs_fake)} == {f"subscription-change-{change.pk}"}


def test_stripe_refusal_fails_the_change_with_a_sentence(subs_fake, live_sub, finance):
    subs_fake.error = (400, "subscription_canceled", "This subscription is already canceled.")
    change = _submit(live_sub, "cancel_at_period_end", finance)

    assert change.status == Status.FAILED
    assert change.error == "Stripe refused the change. Stripe said: This subscription is already canceled."
    assert AuditEvent.objects.filter(action="subscription_change.failed", object_id=str(change.pk)).exists()


def test_the_webhook_confirms_the_change_and_updates_the_mirror(subs_fake, live_sub, finance, deliver):
    change = _submit(live_sub, "cancel_at_period_end", finance)

    stripe_echo(deliver, subs_fake, live_sub)

    change.refresh_from_db()
    live_sub.refresh_from_db()
    assert change.status == Status.CONFIRMED and change.confirmed_event_id.startswith("evt_")
    assert live_sub.cancel_at_period_end
    confirmed = AuditEvent.objects.get(action="subscription_change.confirmed")
    assert confirmed.source == "webhook" and confirmed.customer_id == live_sub.customer_id


def test_an_event_from_before_the_change_does_not_confirm_it(subs_fake, live_sub, finance, deliver):
    change = _submit(live_sub, "cancel_at_period_end", finance)
    old = {**subs_fake.subscriptions[live_sub.stripe_id]}
    deliver(se.event("customer.subscription.updated", old, created=int(time.time()) - 3600))

    change.refresh_from_db()
    assert change.status == Status.SENT


def test_a_plan_change_is_confirmed_by_the_new_price(subs_fake, live_sub, finance, deliver):
    change = _submit(live_sub, "change_plan", finance, price_id="price_enterprise_month", price_label="Enterprise",
                     proration_date=timezone.now())
    stripe_echo(deliver, subs_fake, live_sub)

    change.refresh_from_db()
    live_sub.refresh_from_db()
    assert change.status == Status.CONFIRMED
    assert live_sub.price_id == "price_enterprise_month" and live_sub.amount == 9900


def test_cancel_now_is_confirmed_by_the_deleted_event(subs_fake, live_sub, finance, deliver):
    change = _submit(live_sub, "cancel_now", finance)
    stripe_echo(deliver, subs_fake, live_sub, "customer.subscription.deleted")

    change.refresh_from_db()
    live_sub.refresh_from_db()
    live_sub.customer.refresh_from_db()
    assert change.status == Status.CONFIRMED
    assert live_sub.status == "canceled" and live_sub.customer.status == "canceled"


def test_a_second_change_waits_for_the_first(subs_fake, live_sub, finance):
    _submit(live_sub, "cancel_at_period_end", finance)
    with pytest.raises(SubscriptionChangeError, match="already has a change in progress"):
        _submit(live_sub, "cancel_now", finance, token="token-another-one-000")


def test_without_a_key_nothing_is_recorded_or_sent(subs_fake, live_sub, finance, settings):
    settings.STRIPE_API_KEY = ""
    with pytest.raises(SubscriptionChangeError, match="Stripe is not connected"):
        _submit(live_sub, "cancel_at_period_end", finance)
    assert not SubscriptionChange.objects.exists() and not subs_fake.requests


def test_the_sweep_resends_an_unanswered_change_under_its_key(subs_fake, live_sub, finance, settings):
    settings.STRIPE_READ_TIMEOUT = 0.5
    subs_fake.slow_first = 1.5
    change = _submit(live_sub, "cancel_at_period_end", finance)
    assert not change.answered

    assert subscription_changes_resend_unanswered(now=change.sent_at + timedelta(minutes=1)) == 0  # too soon
    assert subscription_changes_resend_unanswered(now=change.sent_at + timedelta(minutes=3)) == 1

    change.refresh_from_db()
    assert change.answered and subs_fake.acted == 1
    assert AuditEvent.objects.filter(action="subscription_change.accepted", source="worker").exists()


def test_the_scheduler_sends_unanswered_changes_again(subs_fake, live_sub, finance, settings):
    from django.conf import settings as live

    from billing.tasks import resend_unanswered_subscription_changes

    entry = live.CELERY_BEAT_SCHEDULE["billing-resend-subscription-changes"]
    assert entry["task"] == resend_unanswered_subscription_changes.name
    settings.STRIPE_READ_TIMEOUT = 0.5
    subs_fake.slow_first = 1.5
    change = _submit(live_sub, "cancel_at_period_end", finance)
    SubscriptionChange.objects.filter(pk=change.pk).update(sent_at=change.sent_at - timedelta(minutes=3))
    assert resend_unanswered_subscription_changes() == 1
    change.refresh_from_db()
    assert change.answered and subs_fake.acted == 1
