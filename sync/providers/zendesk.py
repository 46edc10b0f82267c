"""Zendesk Support: users by our external id, tickets keyed by the job's idempotency key."""

from django.conf import settings

from customers.models import Customer
from sync.models import SyncJob
from sync.providers import Result
from sync.providers.common import need_email, ticket_text, unsupported
from sync.providers.http import Client, pick

NAME = "zendesk"
LABEL = "Zendesk"
CREDENTIALS = ("ZENDESK_BASE_URL", "ZENDESK_EMAIL", "ZENDESK_API_TOKEN")  # settings that must all be set


def credential() -> str:
    return f"{settings.ZENDESK_BASE_URL}:{settings.ZENDESK_EMAIL}:{settings.ZENDESK_API_TOKEN}"


def cost(action: str) -> int:
    return 2 if action == "create_ticket" else 1


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.ZENDESK_BASE_URL,
                  auth=(f"{settings.ZENDESK_EMAIL}/token", settings.ZENDESK_API_TOKEN))


def _user(job: SyncJob, customer: Customer) -> dict:
    return {"user": {"name": customer.name or customer.email, "email": customer.email,
                     "external_id": customer.public_id,
                     "tags": [t for t in (job.payload.get("status"), job.payload.get("plan")) if t]}}


def _ticket(job: SyncJob, customer: Customer) -> dict:
    subject, body = ticket_text(job, customer)
    ticket = {
        "subject": subject,
        "comment": {"body": body},
        "requester": job.payload.get("requester") or {"name": customer.name or customer.email, "email": customer.email},
        "external_id": job.idempotency_key,
        "tags": list(job.payload.get("tags") or []),
        "priority": job.payload.get("priority") or "normal",
    }
    if str(job.payload.get("group") or "").isdigit():  # a routing group given as a Zendesk group id
        ticket["group_id"] = int(job.payload["group"])
    return {"ticket": ticket}


def preview(*, job: SyncJob, customer: Customer) -> dict:
    if job.action == "create_ticket":
        return {"method": "POST", "path": "/api/v2/tickets", "request": _ticket(job, customer)}
    return {"method": "POST", "path": "/api/v2/users/create_or_update", "request": _user(job, customer)}


def perform(*, job: SyncJob, customer: Customer) -> Result:
    need_email(NAME, customer)
    client = _client()
    if job.action == "upsert_user":
        _, body = client.call("POST", "/api/v2/users/create_or_update", json_body=_user(job, customer))
        return Result(external_id=str(pick(body, "user", "id", provider=NAME)), link=True)
    if job.action != "create_ticket":
        raise unsupported(NAME, job)
    if job.attempts > 1:
        # Zendesk does not enforce external_id: after an uncertain failure, look before creating again.
        _, found = client.call("GET", "/api/v2/tickets", params={"external_id": job.idempotency_key})
        if found.get("tickets"):
            return Result(external_id=str(found["tickets"][0]["id"]))
    _, body = client.call("POST", "/api/v2/tickets", json_body=_ticket(job, customer),
                          headers={"Idempotency-Key": job.idempotency_key})
    return Result(external_id=str(pick(body, "ticket", "id", provider=NAME)))
