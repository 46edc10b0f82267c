"""Intercom: contacts by our external id (search, then update or create), tags, tickets.

Serves the CRM or the support desk, as SYNC_CRM_PROVIDER / SYNC_SUPPORT_PROVIDER say.
"""

import re

from django.conf import settings

from customers.models import Customer
from sync.models import ReasonCode, SyncJob
from sync.providers import Result
from sync.providers.common import stripe_id, ticket_text, unsupported
from sync.providers.http import Client, ProviderError, pick

NAME = "intercom"
LABEL = "Intercom"
CREDENTIALS = ("INTERCOM_ACCESS_TOKEN",)  # settings that must all be set
VERSION = "2.14"
CONTACT_ACTIONS = {"upsert_contact", "upsert_user"}
_EXISTING_ID = re.compile(r"id=([0-9a-f]+)")


def credential() -> str:
    return settings.INTERCOM_ACCESS_TOKEN


def cost(action: str) -> int:
    return 2 if action in CONTACT_ACTIONS else 1


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.INTERCOM_BASE_URL,
                  headers={"Authorization": f"Bearer {settings.INTERCOM_ACCESS_TOKEN}", "Intercom-Version": VERSION})


def _contact(job: SyncJob, customer: Customer) -> dict:
    p = job.payload
    return {"role": "user", "external_id": customer.public_id, "email": customer.email or None,
            "name": customer.name or None,
            "custom_attributes": {"plan": p.get("plan") or "", "status": p.get("status") or "",
                                  "mrr": p.get("mrr") or 0, "stripe_customer_id": stripe_id(customer)}}


def preview(*, job: SyncJob, customer: Customer) -> dict:
    if job.action == "create_ticket":
        return {"method": "POST", "path": "/tickets", "request": _ticket(job, customer)}
    return {"method": "POST", "path": "/contacts", "request": _contact(job, customer)}


def _find(client: Client, customer: Customer) -> str:
    query = {"query": {"field": "external_id", "operator": "=", "value": customer.public_id}}
    _, body = client.call("POST", "/contacts/search", json_body=query)
    data = body.get("data") or []
    return str(data[0]["id"]) if data else ""


def _upsert(client: Client, job: SyncJob, customer: Customer) -> str:
    contact = _contact(job, customer)
    contact_id = _find(client, customer)
    if not contact_id:
        status, body = client.call("POST", "/contacts", json_body=contact, accept=(409,))
        if status != 409:
            return str(pick(body, "id", provider=NAME))
        # Created meanwhile (search is eventually consistent): the error names the existing id.
        message = " ".join(e.get("message", "") for e in body.get("errors", []))
        match = _EXISTING_ID.search(message)
        if not match:
            raise ProviderError(f"{NAME} reports a conflicting contact", permanent=True,
                                reason_code=ReasonCode.CONFLICT, status_code=409)
        contact_id = match.group(1)
    _, body = client.call("PUT", f"/contacts/{contact_id}", json_body=contact)
    return str(pick(body, "id", provider=NAME))


def _ticket(job: SyncJob, customer: Customer) -> dict:
    subject, body = ticket_text(job, customer)
    return {"ticket_type_id": settings.INTERCOM_TICKET_TYPE_ID,
            "contacts": [{"external_id": customer.public_id}],
            "ticket_attributes": {"_default_title_": subject, "_default_description_": body}}


def perform(*, job: SyncJob, customer: Customer) -> Result:
    client = _client()
    if job.action in CONTACT_ACTIONS:
        contact_id = _upsert(client, job, customer)
        for tag in job.payload.get("tags") or []:
            _, tag_body = client.call("POST", "/tags", json_body={"name": tag})
            client.call("POST", f"/contacts/{contact_id}/tags", json_body={"id": pick(tag_body, "id", provider=NAME)})
        return Result(external_id=contact_id, link=True)
    if job.action == "create_ticket":
        if not settings.INTERCOM_TICKET_TYPE_ID:
            raise ProviderError("INTERCOM_TICKET_TYPE_ID is not set", permanent=True,
                                reason_code=ReasonCode.VALIDATION)
        _, body = client.call("POST", "/tickets", json_body=_ticket(job, customer))
        return Result(external_id=str(pick(body, "id", provider=NAME)))
    raise unsupported(NAME, job)
