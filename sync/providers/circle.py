"""Circle Admin API v2: grant the plan's spaces to a member, remove the member on cancellation.

Circle has no idempotency key: look the member up by email first, and treat
"already a member" answers as done.
"""

from django.conf import settings

from customers.models import Customer
from sync.models import ReasonCode, SyncJob
from sync.providers import Result
from sync.providers.common import need_email, unsupported
from sync.providers.http import Client, ProviderError, pick

NAME = "circle"
LABEL = "Circle"
CREDENTIALS = ("CIRCLE_API_TOKEN",)  # settings that must all be set


def credential() -> str:
    return settings.CIRCLE_API_TOKEN


def cost(action: str) -> int:
    return 4 if action == "grant_access" else 2


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.CIRCLE_BASE_URL,
                  headers={"Authorization": f"Bearer {settings.CIRCLE_API_TOKEN}"})


def _new_member(job: SyncJob, customer: Customer) -> dict:
    return {"email": customer.email, "name": customer.name or customer.email,
            "space_ids": list(job.payload.get("spaces") or []), "skip_invitation": False}


def preview(*, job: SyncJob, customer: Customer) -> dict:
    if job.action == "revoke_access":
        return {"method": "DELETE", "path": "/community_members/{id}"}
    return {"method": "POST", "path": "/community_members", "request": _new_member(job, customer)}


def _find(client: Client, customer: Customer) -> str:
    status, body = client.call("GET", "/community_members/search", params={"email": customer.email}, accept=(404,))
    if status == 404:
        return ""
    return str(pick(body.get("community_member") or body, "id", provider=NAME))


def perform(*, job: SyncJob, customer: Customer) -> Result:
    need_email(NAME, customer)
    client = _client()
    member_id = _find(client, customer)
    if job.action == "grant_access":
        if not member_id:
            _, body = client.call("POST", "/community_members", json_body=_new_member(job, customer))
            return Result(external_id=str(pick(body, "community_member", "id", provider=NAME)), link=True)
        for space_id in job.payload.get("spaces") or []:
            status, body = client.call("POST", "/space_members", json_body={"email": customer.email,
                                                                            "space_id": space_id},
                                       accept=(409, 422))
            if status in (409, 422) and "already" not in str(body).lower():
                raise ProviderError(f"{NAME} refused space {space_id}", permanent=True,
                                    reason_code=ReasonCode.VALIDATION, status_code=status)
        return Result(external_id=member_id, link=True)
    if job.action == "revoke_access":
        if member_id:
            client.call("DELETE", f"/community_members/{member_id}", accept=(404,))
        return Result()
    raise unsupported(NAME, job)
