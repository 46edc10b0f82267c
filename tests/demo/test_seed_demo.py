"""The seeded demo holds together: every state on the screens is one the product derived.

The demo is seeded once for this module (inside a transaction rolled back at its end); each test
checks one invariant over it.
"""

import io
import json

import pytest
from django.core.management import call_command
from django.db import transaction

from accounts.models import User
from audit.models import AuditEvent, Source
from audit.services import audit_verify
from billing.models import Charge, Dispute, EventStatus, Invoice, RefundRequest, RefundStatus, StripeEvent
from customers.models import Customer, CustomerMerge, CustomerStatus, System
from customers.selectors import customer_since, override_conflicts_q
from demo.loopback import KIT_RETRY_AFTER
from demo.story import BUSINESS_SPACE
from monitoring.models import Incident
from support.models import Ticket
from support.rules import FACTS, billing_fact_ticket
from support.services import routing_rule_current
from sync.models import DriftKind, JobStatus, ReasonCode, SyncJob, SystemState, ToolDrift


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The printed output of one seeding; the data stays until the module ends."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_every_status_is_there_at_least_three_times(seeded):
    for status in CustomerStatus.values:
        assert Customer.objects.live().filter(status=status).count() >= 3, status


def test_it_prints_one_login_per_role(seeded):
    for role in ("owner", "finance", "support"):
        assert f"{role}@demo.switchboard.test" in seeded
    assert {u.role for u in User.objects.all()} == {"owner", "finance", "support"}


def test_every_event_went_through_the_door_and_was_applied(seeded):
    events = StripeEvent.objects.all()
    assert events.count() > 150
    assert not events.exclude(status=EventStatus.PROCESSED).exists()
    assert not events.filter(secret_index__isnull=True).exists()  # each one verified by a webhook secret


def test_every_failed_payment_and_dispute_has_the_ticket_the_routing_rules_ask_for(seeded):
    rules = routing_rule_current().rules
    facts = StripeEvent.objects.filter(type__in=FACTS)
    asked = [e for e in facts if billing_fact_ticket(rules, e.type) is not None]
    assert {e.type for e in asked} >= {"invoice.payment_failed", "charge.dispute.created"}
    for event in asked:
        ticket = Ticket.objects.get(source_event=event)
        assert (ticket.customer_id, ticket.fact, ticket.subject) == (
            event.customer_id, event.type, billing_fact_ticket(rules, event.type)["subject"])
    for invoice in Invoice.objects.filter(payment_failed=True):
        assert Ticket.objects.filter(source_event__type="invoice.payment_failed",
                                     source_event__payload__data__object__id=invoice.stripe_id).exists()


def test_every_override_and_every_audit_entry_names_who_did_it(seeded):
    overrides = Customer.objects.exclude(override_status="")
    assert overrides.exists()
    assert not overrides.filter(override_set_by__isnull=True).exists()
    entries = AuditEvent.objects.all()
    assert entries.exists()
    machine = [Source.WEBHOOK, Source.WORKER]
    # A visitor's form message is the one entry with no login behind it: nobody signs in to write in.
    by_nobody = entries.filter(actor__isnull=True).exclude(source__in=machine)
    assert set(by_nobody.values_list("action", flat=True)) <= {"support.ticket_submit"}


def test_every_dead_job_died_of_a_provider_answer(seeded):
    dead = SyncJob.objects.filter(status=JobStatus.DEAD)
    assert dead.count() >= 3
    provider_reasons = set(ReasonCode.values) - {ReasonCode.UNKNOWN, ReasonCode.RETRIES_EXHAUSTED}
    for job in dead:
        last = job.attempt_log.order_by("-number").first()
        assert job.reason_code in provider_reasons, job.reason_code
        assert last.status_code and 400 <= last.status_code < 500, last.status_code
        assert last.error_class == job.reason_code
        assert "Error" not in job.last_error and "database" not in job.last_error.lower()


def test_the_failing_tools_fail_each_job_the_way_the_real_tool_does(seeded):
    dead = {(j.system, j.reason_code, j.attempt_log.get().status_code) for j in SyncJob.objects.dead()}
    assert dead == {(System.CRM, ReasonCode.AUTH_FAILED, 401), (System.COMMUNITY, ReasonCode.VALIDATION, 422)}
    community = SyncJob.objects.dead().filter(system=System.COMMUNITY)
    assert all(j.payload["spaces"] == [BUSINESS_SPACE] for j in community)
    retrying = SyncJob.objects.filter(status=JobStatus.RETRYING)
    assert retrying.exists()
    for job in retrying:
        attempt = job.attempt_log.get()
        assert (job.system, job.reason_code, attempt.status_code) == (System.EMAIL, ReasonCode.RATE_LIMITED, 429)
        assert (job.next_attempt_at - attempt.started_at).total_seconds() >= KIT_RETRY_AFTER  # Retry-After honoured


def test_no_customer_is_a_customer_since_after_its_first_event(seeded):
    told_late = 0
    for customer in Customer.objects.live():
        first = customer.stripe_events.order_by("created").values_list("created", flat=True).first()
        assert first is not None
        assert customer_since(customer) <= first, customer
        told_late += customer.created_at > first
    assert told_late > 30  # the rows were written now; the history they carry is weeks old


def test_no_charge_is_both_failed_and_disputed(seeded):
    disputes = Dispute.objects.all()
    assert disputes.exists()
    for dispute in disputes:
        charge = Charge.objects.get(stripe_id=dispute.charge_stripe_id)
        assert (charge.status, charge.paid) == ("succeeded", True)
    assert not Charge.objects.filter(status="failed", disputed=True).exists()


def test_the_audit_chain_verifies(seeded):
    checked, broken = audit_verify()
    assert checked == AuditEvent.objects.count() > 0
    assert broken == []


def test_the_demo_has_every_kind_of_problem_and_no_incident(seeded):
    assert SyncJob.objects.filter(status=JobStatus.PENDING).exists()
    assert SyncJob.objects.filter(status=JobStatus.RETRYING).exists()
    assert Dispute.objects.filter(status="needs_response").exists()
    assert Invoice.objects.filter(payment_failed=True, status="open").exists()
    assert Customer.objects.filter(override_conflicts_q()).exists()
    assert Ticket.objects.exists()
    assert not Incident.objects.exists()


def test_the_staff_actions_went_through_the_services_as_the_demo_logins(seeded):
    owner, finance, support = (User.objects.get(email=f"{r}@demo.switchboard.test") for r in ("owner", "finance", "support"))
    assert SystemState.objects.get(system=System.COMMUNITY, paused=True).paused_by == owner
    assert CustomerMerge.objects.get().merged_by == owner
    refund = RefundRequest.objects.get()
    assert (refund.status, refund.requested_by, refund.needs_approval) == (RefundStatus.AWAITING_APPROVAL, finance, True)
    ticket = Ticket.objects.get(opened_by=support)
    assert (ticket.group, ticket.status) == ("Priority", "new")  # routed, and the desk (sandbox) has it
    assert "paid-no-access" in ticket.tags
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "sync.mapping_rule_edit", "sync.system_pause", "customer.override_set", "customer.merge",
        "refund.requested", "support.ticket_open"}


def _snapshot() -> str:
    from auditlog.models import LogEntry

    rows = {
        "customers": list(Customer.objects.order_by("pk").values_list(
            "pk", "status", "plan", "mrr", "review_reason", "override_status", "merged_into", "email", "updated_at")),
        "events": list(StripeEvent.objects.order_by("pk").values_list("pk", "status", "attempts")),
        "jobs": list(SyncJob.objects.order_by("pk").values_list("pk", "status", "attempts", "next_attempt_at")),
        "tickets": list(Ticket.objects.order_by("pk").values_list("pk", "status", "group")),
        "audit": AuditEvent.objects.count(),
        "field changes": LogEntry.objects.count(),
        "refunds": list(RefundRequest.objects.values_list("pk", "status")),
        "systems": list(SystemState.objects.order_by("pk").values_list("system", "paused", "consecutive_failures")),
        "users": list(User.objects.order_by("pk").values_list("pk", "password")),
    }
    return json.dumps(rows, default=str)


def test_seeding_again_adds_nothing_and_changes_nothing(seeded):
    before = _snapshot()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert _snapshot() == before
    assert "0 Stripe events applied" in out.getvalue()


def test_a_visitor_who_is_not_a_customer_was_answered_and_waits_to_be_linked(seeded):
    ticket = Ticket.objects.get(idempotency_key="form:demo-unknown-sender")
    assert (ticket.customer, ticket.needs_match, ticket.status) == (None, True, "new")
    job = ticket.sync_job
    assert (job.customer, job.status, job.simulated) == (None, JobStatus.SUCCEEDED, True)
    assert ticket.external_id == job.external_id and "unknown-customer" in ticket.tags


def test_the_hand_made_differences_in_the_sandbox_tools_are_in_the_queue(seeded):
    found = set(ToolDrift.objects.filter(resolved_at__isnull=True).values_list("system", "kind", "field"))
    assert {("community", DriftKind.ACCESS_EXTRA, "access"), ("email", DriftKind.WRONG_VALUE, "tag:customer"),
            ("crm", DriftKind.IDENTITY_MISMATCH, "email")} <= found
    assert "the daily pass found" in seeded
