"""An endpoint as stored: its outbox system, its signing secrets and its Slack route."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from webhooks import signing, slack
from webhooks.models import Endpoint, EndpointKind

pytestmark = pytest.mark.django_db


def test_each_endpoint_is_its_own_outbox_system():
    one = Endpoint.objects.create(url="https://a.example/hooks", secret=signing.new_secret())
    two = Endpoint.objects.create(url="https://b.example/hooks", secret=signing.new_secret())
    assert one.system != two.system and one.system.startswith("webhook:")


def test_a_signed_endpoint_cannot_be_stored_without_a_secret():
    with pytest.raises(IntegrityError):
        Endpoint.objects.create(url="https://a.example/hooks", secret="")


def test_the_previous_secret_signs_only_until_its_overlap_ends():
    now = timezone.now()
    endpoint = Endpoint(url="https://a.example/hooks", secret="whsec_new", previous_secret="whsec_old",
                        previous_secret_until=now + timedelta(hours=1))
    assert endpoint.keys().signing(now) == ["whsec_new", "whsec_old"]
    assert endpoint.keys().signing(now + timedelta(hours=2)) == ["whsec_new"]


def test_a_slack_route_by_default_tells_only_our_id_and_plan():
    route = Endpoint.objects.create(kind=EndpointKind.SLACK, url="https://hooks.slack.com/services/T/B/x",
                                    notices=[slack.PAYMENT_FAILED]).route()
    text = slack.body(route, slack.PAYMENT_FAILED, customer="sw_1", plan="pro", customer_url="https://s/c/",
                      data={}, email="ada@example.com", name="Ada")["text"]
    assert "sw_1 (pro)" in text and "ada@example.com" not in text and "Ada" not in text


def test_a_slack_route_may_tell_the_name_without_the_email():
    route = Endpoint(kind=EndpointKind.SLACK, url="https://hooks.slack.com/x", personal_fields=["name"]).route()
    text = slack.body(route, slack.PAYMENT_FAILED, customer="sw_1", plan="pro", customer_url="https://s/c/",
                      data={}, email="ada@example.com", name="Ada")["text"]
    assert "Ada · sw_1 (pro)" in text and "ada@example.com" not in text
