"""The Stripe event builders: what they build, the product applies; and they send nothing Stripe does not."""

import json

import pytest

from billing import models as b
from billing.models import EventStatus, StripeEvent
from demo import stripe_events as se
from tests.billing.conftest import shared_events_dir

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("api_version", se.API_VERSIONS)
def test_every_event_of_every_version_is_applied_to_its_mirror(deliver, api_version):
    events = se.every_event(api_version=api_version, prefix="V")
    for evt in events:
        assert deliver(evt).status_code == 200
    stored = StripeEvent.objects.filter(stripe_id__in=[e["id"] for e in events])
    assert {(e.type, e.status) for e in stored} == {(e["type"], EventStatus.PROCESSED) for e in events}
    assert stored.filter(customer__isnull=False).count() == len(events)  # every one found its customer
    for model, stripe_id in [(b.StripeCustomer, "cus_V"), (b.Subscription, "sub_V"), (b.Invoice, "in_V"),
                             (b.Invoice, "in_Vf"), (b.Charge, "ch_V"), (b.Charge, "ch_Vf"), (b.PaymentIntent, "pi_V"),
                             (b.Refund, "re_V"), (b.Dispute, "dp_V")]:
        assert model.objects.filter(stripe_id=stripe_id, customer__isnull=False).exists(), (model, stripe_id)
    subscription = b.Subscription.objects.get(stripe_id="sub_V")
    assert (subscription.plan_name, subscription.amount, subscription.current_period_end is not None) == ("Pro", 4900, True)
    assert b.Invoice.objects.get(stripe_id="in_V").stripe_created is not None  # `date` before 2019, `created` after


def test_old_invoices_are_dated_by_their_date_field(deliver):
    evt = se.event("invoice.paid", se.invoice("in_OLD", "cus_OLD", "sub_OLD", created=1_480_000_000,
                                              api_version="2016-07-06"), api_version="2016-07-06")
    assert "created" not in evt["data"]["object"]
    deliver(evt)
    assert b.Invoice.objects.get(stripe_id="in_OLD").stripe_created.timestamp() == 1_480_000_000


def _shared() -> list[str]:
    path = shared_events_dir()
    if path is None:
        return ["(shared fixtures absent)"]
    return sorted(f.name for f in path.glob("*.json") if json.loads(f.read_bytes()).get("api_version"))


def _extra_keys(ours, theirs, path: str = "") -> list[str]:
    """Keys ``ours`` has that ``theirs`` lacks, looking into objects both have (and lists' first items)."""
    if isinstance(ours, list) and isinstance(theirs, list) and ours and theirs:
        return _extra_keys(ours[0], theirs[0], path + "[0]")
    if not (isinstance(ours, dict) and isinstance(theirs, dict)):
        return []
    extra = [f"{path}.{k}" for k in ours if k not in theirs]
    for key in ours.keys() & theirs.keys():
        extra += _extra_keys(ours[key], theirs[key], f"{path}.{key}")
    return extra


@pytest.mark.parametrize("name", _shared())
def test_the_builders_send_no_field_that_stripe_does_not_in_that_version(shared_events, name):
    real = json.loads(shared_events[name])
    ours = {e["type"]: e for e in se.every_event(api_version=real["api_version"], prefix="S")}[real["type"]]
    assert _extra_keys(ours["data"]["object"], real["data"]["object"], "data.object") == []
