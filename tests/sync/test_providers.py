"""Each adapter against a loopback fake of its provider: the shapes, the ids, the error classes."""

import pytest

from customers.models import ExternalLink
from sync.models import JobStatus, ReasonCode
from tests.sync import fakes
from tests.sync.helpers import customer_with_stripe, due_now, make_job, run

pytestmark = pytest.mark.django_db


def test_hubspot_upserts_the_contact_keyed_by_our_id_and_links_it(serve):
    hub = serve(fakes.HubSpot())
    customer = customer_with_stripe(email="ada@example.com", name="Ada")
    job = make_job("crm", "upsert_contact", customer, lifecycle_stage="customer")
    assert run(job) == "succeeded"
    contact = hub.contacts[customer.public_id]
    assert contact["properties"]["stripe_customer_id"] == f"cus_{customer.public_id}"
    assert contact["properties"]["lifecyclestage"] == "customer"
    assert contact["properties"]["switchboard_mrr"] == "4900"
    assert ExternalLink.objects.get(customer=customer, system="crm").external_id == contact["id"]
    assert job.external_id == contact["id"] and job.attempts == 1


def test_hubspot_rejected_token_is_dead_auth_failed_after_one_attempt(serve, settings):
    serve(fakes.HubSpot())
    settings.HUBSPOT_ACCESS_TOKEN = "wrong"
    job = make_job("crm", "upsert_contact")
    assert run(job) == "dead"
    assert (job.reason_code, job.attempts, job.attempt_log.count()) == (ReasonCode.AUTH_FAILED, 1, 1)
    assert "wrong" not in str(job.attempt_log.get().request_summary)


@pytest.mark.parametrize(("status", "reason"), [(400, "validation"), (404, "not_found"), (422, "validation"),
                                                 (403, "auth_failed"), (409, "conflict")])
def test_permanent_answers_end_dead_with_their_reason_after_one_attempt(serve, status, reason):
    zd = serve(fakes.Zendesk())
    zd.force = (status, {"error": "RecordInvalid", "description": "Record validation errors"})
    job = make_job("support", "upsert_user")
    assert run(job) == "dead"
    assert (job.status, job.reason_code, job.attempts) == (JobStatus.DEAD, reason, 1)


def test_zendesk_ticket_sends_the_idempotency_key_and_a_retry_finds_the_first_ticket(serve):
    zd = serve(fakes.Zendesk(fault_rate=1.0, faults=("drop_after",)))
    job = make_job("support", "create_ticket", subject="Payment failed", priority="high", tags=["billing"])
    assert run(job) == "retrying"  # the ticket was made, but the answer was lost
    zd.fault_rate = 0
    due_now(job)
    assert run(job) == "succeeded"
    assert len(zd.tickets) == 1 and zd.tickets[0]["external_id"] == job.idempotency_key
    assert job.external_id == str(zd.tickets[0]["id"])
    assert ("GET", "/api/v2/tickets", 200) in zd.calls


def test_zendesk_user_is_created_or_updated_by_our_external_id(serve):
    zd = serve(fakes.Zendesk())
    customer = customer_with_stripe()
    run(make_job("support", "upsert_user", customer))
    run(make_job("support", "upsert_user", customer, plan="Team"))
    assert list(zd.users) == [customer.public_id] and "Team" in zd.users[customer.public_id]["tags"]


def test_intercom_contact_is_found_by_external_id_updated_and_tagged(serve, settings):
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "crm": "intercom"}
    ic = serve(fakes.Intercom())
    customer = customer_with_stripe()
    run(make_job("crm", "upsert_contact", customer, tags=["vip"]))
    job = make_job("crm", "upsert_contact", customer, tags=["vip"])
    assert run(job) == "succeeded"
    (contact,) = ic.contacts.values()
    assert contact["external_id"] == customer.public_id and contact["tags"] == [ic.tags["vip"]]
    assert ExternalLink.objects.get(customer=customer, system="crm").provider == "intercom"


def test_intercom_conflict_on_create_updates_the_existing_contact(serve, settings):
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "support": "intercom"}
    ic = serve(fakes.Intercom())
    customer = customer_with_stripe()
    ic.contacts["abc123"] = {"id": "abc123", "external_id": customer.public_id, "tags": []}
    # search misses it (eventual consistency), create answers 409 naming the id
    ic.search = lambda request: (200, {"type": "list", "data": [], "total_count": 0})
    job = make_job("support", "upsert_user", customer)
    assert run(job) == "succeeded" and job.external_id == "abc123"


def test_circle_grants_the_plan_spaces_and_revokes_on_cancellation(serve):
    circle = serve(fakes.Circle())
    customer = customer_with_stripe(email="ada@example.com")
    assert run(make_job("community", "grant_access", customer, spaces=[11, 12])) == "succeeded"
    assert circle.spaces == {("ada@example.com", 11), ("ada@example.com", 12)}
    assert run(make_job("community", "grant_access", customer, spaces=[11, 13])) == "succeeded"
    assert ("ada@example.com", 13) in circle.spaces  # "already in space 11" counted as done
    assert run(make_job("community", "revoke_access", customer, status="canceled")) == "succeeded"
    assert circle.members == {}


def test_kit_upserts_the_subscriber_then_tags_and_untags(serve):
    kit = serve(fakes.Kit())
    customer = customer_with_stripe(email="ada@example.com")
    run(make_job("email", "add_tag", customer, tag="customer"))
    run(make_job("email", "add_tag", customer, tag="plan-pro"))
    assert kit.tags_of("ada@example.com") == {"customer", "plan-pro"}
    job = make_job("email", "remove_tag", customer, tag="customer")
    assert run(job) == "succeeded"
    assert kit.tags_of("ada@example.com") == {"plan-pro"}
    assert ExternalLink.objects.get(customer=customer, system="email").external_id == str(kit.subscribers["ada@example.com"]["id"])


def test_kit_plain_text_429_is_retried_with_backoff(serve):
    serve(fakes.Kit(fault_rate=1.0, faults=("429",)))
    job = make_job("email", "add_tag", tag="customer")
    assert run(job) == "retrying"
    assert job.reason_code == ReasonCode.RATE_LIMITED and job.next_attempt_at > job.updated_at


def test_retry_after_is_honoured(serve, settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    serve(fakes.HubSpot(fault_rate=1.0, faults=("503_retry_after",)))  # Retry-After: 1
    job = make_job("crm", "upsert_contact")
    run(job)
    assert (job.next_attempt_at - job.updated_at).total_seconds() >= 0.99


@pytest.mark.parametrize(("fault", "reason"), [("timeout_after", "timeout"), ("drop_before", "unavailable"),
                                               ("garbage_after", "bad_response"), ("500", "unavailable")])
def test_transient_failures_are_retried_not_dead(serve, fault, reason):
    serve(fakes.HubSpot(fault_rate=1.0, faults=(fault,)))
    job = make_job("crm", "upsert_contact")
    assert run(job) == "retrying"
    assert (job.reason_code, job.attempts) == (reason, 1)


def test_stored_summaries_hold_no_personal_data_or_secrets(serve):
    serve(fakes.Zendesk())
    customer = customer_with_stripe(email="ada.lovelace@example.com", name="Ada Lovelace")
    job = make_job("support", "create_ticket", customer, subject="Payment failed")
    run(job)
    attempt = job.attempt_log.get()
    stored = str(attempt.request_summary) + str(attempt.response_summary)
    assert "ada.lovelace" not in stored and "Lovelace" not in stored and "test-token" not in stored
    assert attempt.request_summary["calls"][0]["idempotency_key"] == job.idempotency_key


def test_a_job_where_the_customer_has_no_email_is_dead_validation(serve):
    serve(fakes.Kit())
    job = make_job("email", "add_tag", customer_with_stripe(email=""), tag="customer")
    assert run(job) == "dead" and job.reason_code == ReasonCode.VALIDATION
