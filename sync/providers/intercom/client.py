"""Intercom's side of a job: contacts by our external id (search, then update or create), tags, tickets."""

import re

from django.conf import settings

from sync.providers.common import ticket_text, unsupported
from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.http import Client, pick
from sync.providers.intercom.conf import NAME
from sync.providers.payload import Payload, Result

__all__ = ["cost", "credential", "perform", "preview"]

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


def _contact(payload: Payload) -> dict:
    return {"role": "user", "external_id": payload.public_id, "email": payload.email or None,
            "name": payload.name or None,
            "custom_attributes": {"plan": payload.get("plan") or "", "status": payload.get("status") or "",
                                  "mrr": payload.get("mrr") or 0, "stripe_customer_id": payload.stripe_id}}


def preview(payload: Payload) -> dict:
    if payload.action == "create_ticket":
        return {"method": "POST", "path": "/tickets", "request": _ticket(payload)}
    return {"method": "POST", "path": "/contacts", "request": _contact(payload)}


def _find(client: Client, payload: Payload) -> str:
    query = {"query": {"field": "external_id", "operator": "=", "value": payload.public_id}}
    _, body = client.call("POST", "/contacts/search", json_body=query)
    data = body.get("data") or []
    return str(data[0]["id"]) if data else ""


def _upsert(client: Client, payload: Payload) -> str:
    contact = _contact(payload)
    contact_id = _find(client, payload)
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


def _ticket(payload: Payload) -> dict:
    subject, body = ticket_text(payload)
    return {"ticket_type_id": settings.INTERCOM_TICKET_TYPE_ID,
            "contacts": [{"external_id": payload.public_id}],
            "ticket_attributes": {"_default_title_": subject, "_default_description_": body}}


def perform(payload: Payload) -> Result:
    client = _client()
    if payload.action in CONTACT_ACTIONS:
        contact_id = _upsert(client, payload)
        for tag in payload.get("tags") or []:
            _, tag_body = client.call("POST", "/tags", json_body={"name": tag})
            client.call("POST", f"/contacts/{contact_id}/tags", json_body={"id": pick(tag_body, "id", provider=NAME)})
        return Result(external_id=contact_id, link=True)
    if payload.action == "create_ticket":
        if not settings.INTERCOM_TICKET_TYPE_ID:
            raise ProviderError("INTERCOM_TICKET_TYPE_ID is not set", permanent=True,
                                reason_code=ReasonCode.VALIDATION)
        _, body = client.call("POST", "/tickets", json_body=_ticket(payload))
        return Result(external_id=str(pick(body, "id", provider=NAME)))
    raise unsupported(NAME, payload)
