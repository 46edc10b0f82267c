"""Endpoints pointed at loopback receivers, and facts about a customer, for the webhooks tests."""

from webhooks import signing
from webhooks.facts import Fact
from webhooks.models import Endpoint, EndpointKind

ALL_TYPES = ["customer.created", "customer.status_changed", "customer.plan_changed", "payment.succeeded",
             "payment.failed", "refund.succeeded", "dispute.opened", "dispute.closed", "ticket.opened",
             "customer.merged"]


def endpoint_at(url: str, *, event_types=None, **fields) -> Endpoint:
    return Endpoint.objects.create(url=url, secret=signing.new_secret(),
                                   event_types=ALL_TYPES if event_types is None else event_types, **fields)


def slack_at(url: str, *notices, **fields) -> Endpoint:
    return Endpoint.objects.create(kind=EndpointKind.SLACK, url=url, notices=list(notices), **fields)


def dispute_fact(customer, dispute: str = "dp_1", event: str = "evt_1") -> Fact:
    return Fact(type="dispute.opened", customer=customer, about={"source": "stripe", "id": dispute},
                cause={"source": "stripe", "id": event},
                fields={"dispute": dispute, "amount_cents": 4900, "currency": "usd", "reason": "fraudulent"})
