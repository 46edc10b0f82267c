import pytest
from django.test import RequestFactory

from core.client_ip import client_ip


def request_from(remote: str, forwarded: str = ""):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **extra)


def test_without_a_declared_proxy_a_forged_forwarded_header_is_ignored():
    assert client_ip(request_from("203.0.113.7", forwarded="198.51.100.1")) == "203.0.113.7"


def test_behind_one_proxy_the_address_the_proxy_saw_is_used(settings):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    assert client_ip(request_from("10.0.0.2", forwarded="198.51.100.1, 10.0.0.2")) == "198.51.100.1"


@pytest.mark.django_db
def test_a_forged_header_does_not_escape_the_webhook_rate_limit(client, settings):
    from tests import stripe_events as se

    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    settings.STRIPE_WEBHOOK_RATE_LIMIT = "2/m"
    statuses = []
    for n in range(4):
        raw = se.body(se.event("customer.created", se.customer(f"cus_ip{n}")))
        statuses.append(client.post("/webhooks/stripe/", data=raw, content_type="application/json",
                                    HTTP_STRIPE_SIGNATURE=se.sign(raw), HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code)
    assert statuses == [200, 200, 429, 429]
