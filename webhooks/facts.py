"""Switchboard's facts, handed to every endpoint that wants them through the outbox.

A fact is written inside the transaction of the change that caused it (a Stripe event applied, a
ticket opened, a merge), as one ``SyncJob`` per endpoint that wants it, keyed by the fact's id and the
endpoint: a replayed event or a second run names the same fact, finds its keys taken and adds nothing.
The body is fixed here, so every attempt sends (and signs) the same bytes with the same ``webhook-id``.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from audit.context import current_correlation_id
from core.batch import batch_read
from customers.links import customer_360_url
from customers.models import Customer, ExternalLink
from sync.models import SyncJob
from sync.services.outbox import fitted_key, jobs_enqueue_on_commit
from webhooks import catalog, slack
from webhooks.models import Endpoint, EndpointKind
from webhooks.tool import DELIVER


@dataclass(frozen=True)
class Fact:
    type: str
    customer: Customer
    # What the fact is about, for its id: the Stripe object (a payment, a refund, a dispute) or our
    # own record, so Stripe's several events about one payment make one fact.
    about: dict[str, str]
    cause: dict[str, str]  # the event that caused it, as the payload tells it
    fields: dict = field(default_factory=dict)
    source_event: object | None = None  # the StripeEvent, when one caused it
    created: datetime | None = None

    @property
    def id(self) -> str:
        return catalog.fact_id(self.type, self.customer.public_id, self.about)


def _endpoints() -> list[Endpoint]:
    return list(Endpoint.objects.filter(enabled=True).order_by("pk"))


def endpoints_enabled() -> list[Endpoint]:
    """The enabled endpoints, read once per batch of events."""
    return batch_read("webhooks.endpoints", _endpoints)


def facts_publish(*, facts: list[Fact]) -> list[SyncJob]:
    """Write one delivery per (fact, endpoint that wants it); wake them after commit."""
    endpoints = endpoints_enabled() if facts else []
    wanted: dict[str, SyncJob] = {}
    linked_by_customer: dict[int, dict[str, str]] = {}
    now = timezone.now()
    for fact in facts:
        for endpoint in endpoints:
            body = _body_for(endpoint, fact, linked_by_customer)
            if body is None:
                continue
            key = fitted_key(catalog.delivery_key(fact.id, endpoint.pk))
            wanted[key] = _job(endpoint, fact, body, key, now)
    return _insert(wanted)


def fact_resend(*, endpoint: Endpoint, job: SyncJob, now: datetime) -> SyncJob:
    """A new delivery of an earlier job's body to its endpoint, with the same ``webhook-id``."""
    count = SyncJob.objects.filter(system=endpoint.system, idempotency_key__startswith=job.idempotency_key).count()
    key = fitted_key(f"{job.idempotency_key}:resend:{count}")
    resent = SyncJob(idempotency_key=key, customer=job.customer, system=endpoint.system, action=DELIVER,
                     payload=dict(job.payload), source_event=job.source_event,
                     correlation_id=current_correlation_id(), next_attempt_at=now, enqueued_at=now)
    return _insert({key: resent})[0]


def test_delivery(*, endpoint: Endpoint, now: datetime, nonce: str) -> SyncJob:
    """A ``switchboard.test`` delivery (or, to Slack, a test notice) to ``endpoint``."""
    message_id = "msg_test_" + nonce
    if endpoint.is_slack:
        body = json.dumps({"text": "Switchboard test notice: this channel gets the notices chosen for it."})
    else:
        body = catalog.body(catalog.envelope(message_id, catalog.TEST_EVENT, now, customer="", linked={},
                                             cause={"source": "switchboard", "id": "test"}, fields={}))
    key = fitted_key(catalog.delivery_key(message_id, endpoint.pk))
    job = SyncJob(idempotency_key=key, customer=None, system=endpoint.system, action=DELIVER,
                  payload={"message_id": message_id, "event_type": catalog.TEST_EVENT, "body": body},
                  correlation_id=current_correlation_id(), next_attempt_at=now, enqueued_at=now)
    return _insert({key: job})[0]


def _body_for(endpoint: Endpoint, fact: Fact, linked_by_customer: dict[int, dict[str, str]]) -> str | None:
    customer = fact.customer
    if endpoint.kind == EndpointKind.SLACK:
        notice = slack.wanted(endpoint.route(), fact.type, fact.fields)
        if not notice:
            return None
        return json.dumps(slack.body(endpoint.route(), notice, customer=customer.public_id, plan=customer.plan,
                                     customer_url=customer_360_url(customer.public_id), data=fact.fields,
                                     email=customer.email, name=customer.name))
    if not endpoint.wants(fact.type):
        return None
    if customer.pk not in linked_by_customer:
        linked_by_customer[customer.pk] = dict(
            ExternalLink.objects.filter(customer=customer).order_by("system").values_list("system", "external_id"))
    payload = catalog.envelope(fact.id, fact.type, fact.created or timezone.now(), customer=customer.public_id,
                               linked=linked_by_customer[customer.pk], cause=fact.cause, fields=fact.fields)
    return catalog.body(payload)


def _job(endpoint: Endpoint, fact: Fact, body: str, key: str, now: datetime) -> SyncJob:
    return SyncJob(idempotency_key=key, customer=fact.customer, system=endpoint.system, action=DELIVER,
                   payload={"message_id": fact.id, "event_type": fact.type, "body": body},
                   source_event=fact.source_event, correlation_id=current_correlation_id(),
                   next_attempt_at=now, enqueued_at=now)  # the wake-up is published right after commit


def _insert(wanted: dict[str, SyncJob]) -> list[SyncJob]:
    """Insert the deliveries whose key is new; a replayed cause finds its keys taken."""
    if not wanted:
        return []
    taken = set(SyncJob.objects.filter(idempotency_key__in=list(wanted)).values_list("idempotency_key", flat=True))
    created = SyncJob.objects.bulk_create([job for key, job in wanted.items() if key not in taken])
    jobs_enqueue_on_commit(job_ids=[job.pk for job in created], marked=True)
    return created
