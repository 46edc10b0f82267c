"""Refused requests (400, 403, 404) and failed sign-ins log the client as a keyed hash, never its address,
and request lines carry no query string."""

import pytest
from django.urls import reverse

from core.logs import log_hash
from tests import stripe_events as se

pytestmark = pytest.mark.django_db

ADDRESS = "203.0.113.77"
SEARCH = "grace.hopper@navy.example"


def test_refused_requests_and_failed_sign_ins_log_a_hash_of_the_client_not_its_address(
    client, settings, owner, norole, captured, capfd
):
    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    at = {"REMOTE_ADDR": ADDRESS}
    # 400: an unsigned delivery at the webhook door
    assert client.post("/webhooks/stripe/", data=b"{}", content_type="application/json", **at).status_code == 400
    # failed sign-ins (the lockout's log lines name the client and the email)
    for _ in range(2):
        client.post(reverse("login"), {"username": owner.email, "password": "wrong-password"}, **at)
    # 404 and a 403 that carried a search term
    client.force_login(owner)
    assert client.get(reverse("customer_detail", args=["sw_nobody"]), **at).status_code == 404
    client.force_login(norole)
    assert client.get(reverse("customer_list"), {"q": SEARCH}, **at).status_code == 403

    out, err = capfd.readouterr()
    everything = "\n".join([captured.getvalue(), out, err])
    assert everything.count("request_finished") >= 3, "the request lines are captured (so the checks below mean something)"
    assert ADDRESS not in everything
    assert log_hash(ADDRESS) in everything
    assert SEARCH not in everything, "query strings stay out of request lines"
    assert owner.email not in everything, "a failed sign-in names the email by a hash too"
