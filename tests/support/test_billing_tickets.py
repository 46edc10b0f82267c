"""Billing facts open tickets through one path: our Ticket row and its desk job, once per fact."""

import pytest

from billing.models import StripeEvent
from billing.services import event_replay
from customers.models import Customer
from support.models import Ticket, TicketSource, TicketStatus
from support.services import routing_rule_current, routing_rule_edit
from sync.models import JobStatus, SyncJob
from tests import stripe_events as se
from tests.support.conftest import paying_customer

pytestmark = pytest.mark.django_db

T = 1_700_000_000


def payment_failed(event_id: str | None = None) -> dict:
    return se.event(
        "invoice.payment_failed",
        se.invoice("in_F1", "cus_PAY1", "sub_cus_PAY1", status="open"),
        created=T + 10,
        event_id=event_id,
    )


def test_a_failed_payment_opens_one_ticket_that_the_desk_confirms(deliver, desk):
    paying_customer(deliver)
    deliver(payment_failed())
    ticket = Ticket.objects.get()
    assert (ticket.source, ticket.fact, ticket.subject) == (
        TicketSource.BILLING,
        "invoice.payment_failed",
        "Payment failed",
    )
    assert ticket.sync_job.status == JobStatus.SUCCEEDED
    [made] = desk.made
    assert ticket.status == TicketStatus.NEW and ticket.external_id == made.id
    assert made.key == ticket.sync_job.idempotency_key


def test_the_ticket_tells_the_desk_who_the_customer_is_and_what_they_pay(deliver, desk):
    paying_customer(deliver)
    deliver(payment_failed())
    customer = Customer.objects.get()
    [sent] = desk.made
    assert customer.public_id in sent.body and "Plan: Pro" in sent.body and "MRR: 49.00 USD" in sent.body
    assert f"https://switchboard.example.com/customers/{customer.public_id}/" in sent.body
    assert {"plan-pro", "past-due", "paying", "payment-failed", "source-billing"} <= sent.tags
    assert sent.priority == "high" and sent.subject == "Payment failed"
    assert desk.holds(sent, customer)


def test_the_same_event_delivered_again_opens_no_second_ticket(deliver, desk):
    paying_customer(deliver)
    event = payment_failed()
    deliver(event)
    deliver(event)
    assert Ticket.objects.count() == 1 and len(desk.made) == 1


def test_replaying_the_event_opens_no_second_ticket(deliver, desk, owner, django_capture_on_commit_callbacks):
    paying_customer(deliver)
    event = payment_failed()
    deliver(event)
    stored = StripeEvent.objects.get(stripe_id=event["id"])
    with django_capture_on_commit_callbacks(execute=True):
        event_replay(event=stored, actor=owner, source="ui")
    assert Ticket.objects.count() == 1 and len(desk.made) == 1
    assert SyncJob.objects.filter(action="create_ticket").count() == 1


def test_a_dispute_opens_an_urgent_ticket(deliver, desk):
    paying_customer(deliver)
    deliver(se.event("charge.succeeded", se.charge("ch_D1", "cus_PAY1"), created=T + 2))
    deliver(se.event("charge.dispute.created", se.dispute("dp_D1", "ch_D1"), created=T + 3))
    ticket = Ticket.objects.get()
    assert (ticket.fact, ticket.priority, ticket.group) == ("charge.dispute.created", "urgent", "Billing")
    [made] = desk.made
    assert made.priority == "urgent" and "dispute-open" in made.tags


def trial_will_end() -> dict:
    return se.event(
        "customer.subscription.trial_will_end",
        se.subscription("sub_cus_TR1", "cus_TR1", status="trialing"),
        created=T + 5,
    )


def _trial(deliver) -> None:
    deliver(se.event("customer.created", se.customer("cus_TR1", email="tri@example.com"), created=T))
    deliver(
        se.event(
            "customer.subscription.created",
            se.subscription("sub_cus_TR1", "cus_TR1", status="trialing"),
            created=T + 1,
        )
    )


def test_a_trial_about_to_end_opens_nothing_by_default(deliver, desk):
    _trial(deliver)
    deliver(trial_will_end())
    assert Ticket.objects.count() == 0 and desk.made == []


def test_a_trial_about_to_end_opens_a_ticket_when_the_rule_says_so(deliver, desk, owner):
    rules = routing_rule_current().rules
    rules["billing_facts"]["customer.subscription.trial_will_end"]["enabled"] = True
    routing_rule_edit(rules=rules, actor=owner, note="ask trials before they end")
    _trial(deliver)
    deliver(trial_will_end())
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.routing_version) == ("Trial ends soon", 2)
    assert "trial-ending" in desk.made[0].tags


def test_a_status_ticket_from_the_mapping_rules_takes_the_same_path(deliver, desk):
    paying_customer(deliver)
    deliver(
        se.event(
            "customer.subscription.deleted",
            se.subscription("sub_cus_PAY1", "cus_PAY1", status="canceled"),
            created=T + 20,
        )
    )
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.fact, ticket.status) == (
        "Subscription canceled",
        "status:canceled",
        TicketStatus.NEW,
    )
    assert SyncJob.objects.filter(action="create_ticket").get() == ticket.sync_job


def test_a_billing_ticket_names_the_stripe_event_that_opened_it(deliver, desk):
    paying_customer(deliver)
    event = payment_failed()
    deliver(event)
    ticket = Ticket.objects.get()
    assert ticket.source_event.stripe_id == event["id"] and ticket.customer == Customer.objects.get()
    assert ticket.sync_job.source_event == ticket.source_event
    assert ticket.sync_job.idempotency_key == f"{event['id']}:{ticket.customer.public_id}:support:create_ticket"
