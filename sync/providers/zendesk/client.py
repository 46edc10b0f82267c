"""Zendesk's side of a job: users by our external id, tickets keyed by the job's idempotency key."""

from django.conf import settings

from sync.providers.common import need_email, ticket_text, unsupported
from sync.providers.http import Client, pick
from sync.providers.payload import Payload, Result
from sync.providers.zendesk.conf import NAME

__all__ = ["cost", "credential", "perform", "preview"]


def credential() -> str:
    return f"{settings.ZENDESK_BASE_URL}:{settings.ZENDESK_EMAIL}:{settings.ZENDESK_API_TOKEN}"


def cost(action: str) -> int:
    return 2 if action == "create_ticket" else 1


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.ZENDESK_BASE_URL,
                  auth=(f"{settings.ZENDESK_EMAIL}/token", settings.ZENDESK_API_TOKEN))


def _user(payload: Payload) -> dict:
    return {"user": {"name": payload.name or payload.email, "email": payload.email,
                     "external_id": payload.public_id,
                     "tags": [t for t in (payload.get("status"), payload.get("plan")) if t]}}


def _ticket(payload: Payload) -> dict:
    subject, body = ticket_text(payload)
    ticket = {
        "subject": subject,
        "comment": {"body": body},
        "requester": payload.get("requester") or {"name": payload.name or payload.email, "email": payload.email},
        "external_id": payload.idempotency_key,
        "tags": list(payload.get("tags") or []),
        "priority": payload.get("priority") or "normal",
    }
    if str(payload.get("group") or "").isdigit():  # a routing group given as a Zendesk group id
        ticket["group_id"] = int(payload.get("group"))
    return {"ticket": ticket}


def preview(payload: Payload) -> dict:
    if payload.action == "create_ticket":
        return {"method": "POST", "path": "/api/v2/tickets", "request": _ticket(payload)}
    return {"method": "POST", "path": "/api/v2/users/create_or_update", "request": _user(payload)}


def perform(payload: Payload) -> Result:
    need_email(NAME, payload)
    client = _client()
    if payload.action == "upsert_user":
        _, body = client.call("POST", "/api/v2/users/create_or_update", json_body=_user(payload))
        return Result(external_id=str(pick(body, "user", "id", provider=NAME)), link=True)
    if payload.action != "create_ticket":
        raise unsupported(NAME, payload)
    if payload.attempt > 1:
        # Zendesk does not enforce external_id: after an uncertain failure, look before creating again.
        _, found = client.call("GET", "/api/v2/tickets", params={"external_id": payload.idempotency_key})
        if found.get("tickets"):
            return Result(external_id=str(found["tickets"][0]["id"]))
    _, body = client.call("POST", "/api/v2/tickets", json_body=_ticket(payload),
                          headers={"Idempotency-Key": payload.idempotency_key})
    return Result(external_id=str(pick(body, "ticket", "id", provider=NAME)))
