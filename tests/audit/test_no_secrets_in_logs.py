"""A full cycle (signed Stripe event -> processing -> sync jobs on the sandbox -> a refund at a Stripe fake)
writes no customer email, no customer name, no API key and no webhook secret to any log or stream."""

import time

import pytest
from django.urls import reverse

from billing.models import Charge, RefundRequest, RefundStatus
from billing.services.refunds import refund_execute, refund_submit
from sync.models import JobStatus, SyncJob
from tests import stripe_events as se
from tests.billing.stripe_fake import API_KEY, stripe_fake  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

EMAIL = "margaret.hamilton@apollo.example"
NAME = "Margaret Hamilton"
SECRET = "whsec_logcapture_secret_5f1c2d9e"


def test_a_full_cycle_logs_no_personal_data_or_secrets(
    client, settings, stripe_fake, captured, capfd, finance, django_capture_on_commit_callbacks
):
    settings.STRIPE_WEBHOOK_SECRETS = [SECRET]
    settings.STRIPE_LIVEMODE = False
    settings.STRIPE_READ_TIMEOUT = 0.5
    stripe_fake.slow_first = 1.0  # one timeout on the way, so retry paths log too

    cid, chid = se.new_id("cus"), se.new_id("ch")
    events = [
        se.event("customer.created", se.customer(cid, email=EMAIL, name=NAME)),
        se.event("customer.subscription.created", se.subscription(se.new_id("sub"), cid)),
        se.event("charge.succeeded", se.charge(chid, cid, amount=4900)),
    ]
    for evt in events:
        with django_capture_on_commit_callbacks(execute=True):
            assert se.post(client, evt, secret=SECRET).status_code == 200
    # a forged delivery is refused and logged
    assert se.post(client, events[0], secret="whsec_wrong").status_code == 400

    assert SyncJob.objects.filter(status=JobStatus.SUCCEEDED).exists(), "sync jobs ran against the sandbox"
    charge = Charge.objects.get(stripe_id=chid)

    request = refund_submit(charge=charge, amount=1000, reason="requested_by_customer", note=f"asked by {NAME}",
                            actor=finance, submit_token="log-capture-token-1")
    assert request.status == RefundStatus.PENDING  # the reply timed out
    request = refund_execute(request=request, actor=finance)
    assert request.status == RefundStatus.SUCCEEDED
    refund = stripe_fake.refunds[request.stripe_refund_id]
    with django_capture_on_commit_callbacks(execute=True):
        se.post(client, se.event("refund.updated", refund, created=int(time.time()) + 5), secret=SECRET)
    stripe_fake.errors[chid] = "charge_disputed"
    refused = refund_submit(charge=charge, amount=500, reason="duplicate", note="", actor=finance,
                            submit_token="log-capture-token-2")
    assert refused.status == RefundStatus.FAILED

    client.force_login(finance)
    assert client.get(reverse("customer_list"), {"q": EMAIL}).status_code == 200

    out, err = capfd.readouterr()
    logs = captured.getvalue()
    everything = "\n".join([logs, out, err])
    assert "stripe_webhook.rejected" in logs, "our structlog lines are captured (so the check below means something)"
    assert RefundRequest.objects.count() == 2
    for needle in (EMAIL, NAME, "margaret", "Hamilton", API_KEY, SECRET):
        assert needle.lower() not in everything.lower(), f"{needle!r} appears in the logs"
