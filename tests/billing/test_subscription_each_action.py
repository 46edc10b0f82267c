"""Every subscription action, one by one, against the loopback Stripe: a double submit is one call, a timeout
after Stripe made the change is sent again under the same key and Stripe acts once, and the webhook that
follows confirms the request and updates the mirror, the 360, its timeline and the audit trail."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing.models import Subscription, SubscriptionChange
from billing.models import SubscriptionChangeKind as Kind
from billing.models import SubscriptionChangeStatus as Status
from billing.services.subscriptions import subscription_change_execute, subscription_change_submit
from tests import stripe_events as se
from tests.billing.subscription_fake import subs_fake  # noqa: F401 - fixture
from tests.billing.subscription_setup import DAY, live_sub, stripe_echo  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

TOKEN = "token-each-action-00001"


def _trialing(deliver, subs_fake) -> Subscription:
    now = int(time.time())
    cid, sid = se.new_id("cus"), se.new_id("sub")
    deliver(se.event("customer.created", se.customer(cid, email="tess@example.com", name="Tess Trial")))
    obj = se.subscription(sid, cid, status="trialing", trial_start=now - DAY, trial_end=now + 6 * DAY,
                          current_period_start=now - DAY, current_period_end=now + 6 * DAY)
    deliver(se.event("customer.subscription.created", obj))
    subs_fake.add(obj)
    return Subscription.objects.select_related("customer").get(stripe_id=sid)


def _mirrored(deliver, subs_fake, sub: Subscription, **stripe_state) -> Subscription:
    """The subscription as changed in Stripe's dashboard beforehand (not through Switchboard)."""
    subs_fake.subscriptions[sub.stripe_id].update(stripe_state)
    stripe_echo(deliver, subs_fake, sub)
    sub.refresh_from_db()
    return sub


def _prepared(kind: str, sub: Subscription, subs_fake, deliver) -> tuple[Subscription, dict, dict]:
    """The subscription ready for ``kind``, the service's terms, and the body Stripe must get."""
    moment = timezone.now().replace(microsecond=0)
    if kind == Kind.CANCEL_AT_PERIOD_END:
        return sub, {}, {"cancel_at_period_end": "true"}
    if kind == Kind.UNDO_CANCEL:
        return _mirrored(deliver, subs_fake, sub, cancel_at_period_end=True), {}, {"cancel_at_period_end": "false"}
    if kind == Kind.CANCEL_NOW:
        return sub, {}, {}
    if kind == Kind.CHANGE_PLAN:
        return sub, {"price_id": "price_enterprise_month", "price_label": "Enterprise", "proration_date": moment}, {
            "items[0][id]": f"si_{sub.stripe_id}", "items[0][price]": "price_enterprise_month",
            "proration_behavior": "always_invoice", "proration_date": str(int(moment.timestamp()))}
    if kind == Kind.PAUSE_COLLECTION:
        resumes = moment + timedelta(days=14)
        return sub, {"pause_behavior": "keep_as_draft", "resumes_at": resumes}, {
            "pause_collection[behavior]": "keep_as_draft",
            "pause_collection[resumes_at]": str(int(resumes.timestamp())),
        }
    if kind == Kind.RESUME_COLLECTION:
        paused = {"behavior": "void", "resumes_at": int(time.time()) + 30 * DAY}
        return _mirrored(deliver, subs_fake, sub, pause_collection=paused), {}, {"pause_collection": ""}
    if kind == Kind.EXTEND_TRIAL:
        trial = _trialing(deliver, subs_fake)
        new_end = moment + timedelta(days=20)
        return trial, {"trial_end": new_end}, {"trial_end": str(int(new_end.timestamp())),
                                               "proration_behavior": "none"}
    raise AssertionError(kind)


def _calls(fake) -> list[dict]:
    return [r for r in fake.requests if r["path"].startswith("/v1/subscriptions/")]


def _submit(sub, kind, actor, terms):
    return subscription_change_submit(subscription=sub, kind=kind, actor=actor, submit_token=TOKEN, **terms)


@pytest.mark.parametrize("kind", Kind.values)
def test_each_action_is_one_call_with_its_body_however_often_it_is_submitted(subs_fake, live_sub, finance,
                                                                             deliver, kind):
    sub, terms, body = _prepared(kind, live_sub, subs_fake, deliver)
    before = subs_fake.acted

    first = _submit(sub, kind, finance, terms)
    second = _submit(sub, kind, finance, terms)

    assert second.pk == first.pk and SubscriptionChange.objects.count() == 1
    (call,) = _calls(subs_fake)
    assert call["method"] == ("DELETE" if kind == Kind.CANCEL_NOW else "POST")
    assert call["path"] == f"/v1/subscriptions/{sub.stripe_id}"
    assert call["form"] == body
    assert call["key"] == f"subscription-change-{first.pk}"
    assert subs_fake.acted == before + 1


@pytest.mark.parametrize("kind", Kind.values)
def test_each_action_sent_again_after_a_timeout_is_made_once(subs_fake, live_sub, finance, deliver, settings, kind):
    sub, terms, body = _prepared(kind, live_sub, subs_fake, deliver)
    settings.STRIPE_READ_TIMEOUT = 0.5
    subs_fake.slow_first = 1.5  # Stripe makes the change, then answers too late

    change = _submit(sub, kind, finance, terms)
    assert change.status == Status.SENT and not change.answered and change.error

    again = subscription_change_execute(change=change, actor=finance)

    assert again.answered and again.status == Status.SENT and not again.error
    calls = _calls(subs_fake)
    assert len(calls) == 2 and subs_fake.acted == 1  # the second call got Stripe's first answer back
    assert {c["key"] for c in calls} == {f"subscription-change-{change.pk}"}
    assert all(c["form"] == body for c in calls)


# What the 360's subscription table says once Stripe's webhook is applied, and what it no longer says.
AFTER = {
    Kind.CANCEL_AT_PERIOD_END: ("cancels at period end", None),
    Kind.UNDO_CANCEL: (None, "cancels at period end"),
    Kind.CANCEL_NOW: ("canceled", None),
    Kind.CHANGE_PLAN: ("Enterprise", None),
    Kind.PAUSE_COLLECTION: ("collection paused", None),
    Kind.RESUME_COLLECTION: (None, "collection paused"),
    Kind.EXTEND_TRIAL: (None, None),  # the new trial end, checked below
}


@pytest.mark.parametrize("kind", Kind.values)
def test_each_actions_webhook_confirms_it_and_the_360_follows(client, subs_fake, live_sub, finance, deliver,
                                                               kind):
    sub, terms, _ = _prepared(kind, live_sub, subs_fake, deliver)
    change = _submit(sub, kind, finance, terms)

    stripe_echo(deliver, subs_fake, sub, "customer.subscription.deleted" if kind == Kind.CANCEL_NOW
                else "customer.subscription.updated")

    change.refresh_from_db()
    assert change.status == Status.CONFIRMED and change.confirmed_event_id.startswith("evt_")
    steps = list(AuditEvent.objects.filter(object_type="billing.SubscriptionChange", object_id=str(change.pk))
                 .order_by("id").values_list("action", "actor_id"))
    assert steps == [("subscription_change.requested", finance.pk), ("subscription_change.sent", finance.pk),
                     ("subscription_change.accepted", finance.pk), ("subscription_change.confirmed", None)]

    client.force_login(finance)
    page = client.get(reverse("customer_detail", args=[sub.customer.public_id])).content.decode()
    table = page.split('id="subscriptions"')[1].split("</table>")[0]
    shown, gone = AFTER[kind]
    if shown:
        assert shown in table
    if gone:
        assert gone not in table
    if kind == Kind.EXTEND_TRIAL:
        sub.refresh_from_db()
        assert sub.trial_end == terms["trial_end"] and f'datetime="{terms["trial_end"].isoformat()}"' in table
    assert "confirmed by stripe" in table.split(f'id="subscription-actions-{sub.pk}"')[1]
    timeline = page.split('id="timeline"')[1].split("</ol>")[0]
    assert "requested" in timeline and "Stripe confirms:" in timeline and sub.stripe_id in timeline


# Each action's inputs as a person fills them in (those without any go straight to their confirmation).
def _inputs(kind: str) -> dict | None:
    day = (timezone.localdate() + timedelta(days=20)).isoformat()
    return {Kind.CANCEL_NOW: {}, Kind.CHANGE_PLAN: {"price": "price_enterprise_month"},
            Kind.PAUSE_COLLECTION: {"resumes_on": day, "pause_behavior": "void"},
            Kind.EXTEND_TRIAL: {"trial_ends_on": day}}.get(kind)


@pytest.mark.parametrize("kind", Kind.values)
def test_each_actions_confirmation_repeats_customer_subscription_change_and_money(client, subs_fake, live_sub,
                                                                                 finance, deliver, kind):
    sub, _, _ = _prepared(kind, live_sub, subs_fake, deliver)
    client.force_login(finance)
    url = reverse("subscription_change_new", args=[sub.pk, kind])
    inputs = _inputs(kind)
    response = client.get(url) if inputs is None else client.post(url, inputs)

    assert response.status_code == 200
    html = response.content.decode()
    summary = html.split('id="subscription-summary"')[1].split("</dl>")[0]
    customer = sub.customer
    assert customer.name in summary and customer.public_id in summary and sub.stripe_id in summary
    what = summary.split('id="what-changes">')[1].split("</dd>")[0]
    money = summary.split('id="money-consequence">')[1].split("</dd>")[0]
    assert len(what) > 20 and len(money) > 15, (what, money)
    assert 'name="token"' in html and f'action="{reverse("subscription_change_confirm", args=[sub.pk, kind])}"' in html
    assert not _calls(subs_fake) and not SubscriptionChange.objects.exists()  # nothing happens before confirming
