"""The payload: built once per attempt by the executor, frozen, everything an adapter may know."""

import dataclasses

import pytest

from customers.links import customer_360_url
from customers.models import ExternalLink, System
from sync.models import SyncJob
from sync.services.payload import job_payload, jobs_with_payload_facts
from tests.sync import fakes
from tests.sync.helpers import customer_with_stripe, make_job, run

pytestmark = pytest.mark.django_db


def test_one_query_loads_a_job_with_every_fact_of_its_payload(django_assert_num_queries):
    customer = customer_with_stripe(email="ada@example.com", name="Ada")
    ExternalLink.objects.create(customer=customer, system=System.CRM, external_id="hs-7", provider="hubspot")
    job = make_job("crm", "upsert_contact", customer, lifecycle_stage="customer")
    SyncJob.objects.filter(pk=job.pk).update(attempts=2)
    with django_assert_num_queries(1):
        payload = job_payload(jobs_with_payload_facts().get(pk=job.pk))
    assert (payload.job_id, payload.system, payload.action) == (job.pk, "crm", "upsert_contact")
    assert payload.attempt == 2
    assert (payload.public_id, payload.email, payload.name) == (customer.public_id, "ada@example.com", "Ada")
    assert (payload.stripe_id, payload.linked_id) == (f"cus_{customer.public_id}", "hs-7")
    assert payload.customer_url == customer_360_url(customer.public_id)
    assert payload.idempotency_key == job.idempotency_key and payload.get("lifecycle_stage") == "customer"


def test_a_customer_without_links_gets_empty_ids_not_none():
    job = make_job("email", "add_tag", customer_with_stripe(), tag="customer")
    ExternalLink.objects.filter(customer=job.customer).delete()
    payload = job_payload(jobs_with_payload_facts().get(pk=job.pk))
    assert (payload.stripe_id, payload.linked_id) == ("", "")


def test_an_adapter_cannot_change_the_payload_or_the_job_through_it():
    job = make_job("email", "add_tag", tag="customer")
    payload = job_payload(jobs_with_payload_facts().get(pk=job.pk))
    with pytest.raises(dataclasses.FrozenInstanceError):
        payload.email = "someone@else.example"
    with pytest.raises(TypeError):
        payload.data["tag"] = "churned"
    job.refresh_from_db()
    assert job.payload["tag"] == "customer"


def test_the_customer_360_url_reaches_the_crm_and_the_desk_ticket(serve, settings):
    settings.SITE_URL = "https://switchboard.example.com"
    hub, desk = serve(fakes.HubSpot()), serve(fakes.Zendesk())
    customer = customer_with_stripe()
    run(make_job("crm", "upsert_contact", customer))
    run(make_job("support", "create_ticket", customer, subject="Payment failed"))
    url = f"https://switchboard.example.com/customers/{customer.public_id}/"
    assert customer_360_url(customer.public_id) == url
    assert hub.contacts[customer.public_id]["properties"]["switchboard_url"] == url
    assert desk.tickets[0]["comment"]["body"].endswith(f"Details: {url}")
