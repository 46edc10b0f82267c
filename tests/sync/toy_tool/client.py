"""Toy CRM's side of a job: one PUT per contact, keyed by our id, so a retry changes nothing."""

from django.conf import settings

from sync.providers.common import unsupported
from sync.providers.http import Client, pick
from sync.providers.payload import Payload, Result
from tests.sync.toy_tool.conf import NAME

__all__ = ["cost", "credential", "perform", "preview"]


def credential() -> str:
    return settings.TOYCRM_API_KEY


def cost(action: str) -> int:
    return 1


def _person(payload: Payload) -> dict:
    return {"email": payload.email, "name": payload.name, "stripe_customer_id": payload.stripe_id,
            "switchboard_url": payload.customer_url, "plan": payload.get("plan") or "",
            "status": payload.get("status") or ""}


def preview(payload: Payload) -> dict:
    return {"method": "PUT", "path": f"/people/{payload.public_id}", "request": _person(payload)}


def perform(payload: Payload) -> Result:
    if payload.action != "upsert_contact":
        raise unsupported(NAME, payload)
    client = Client(provider=NAME, base_url=settings.TOYCRM_BASE_URL,
                    headers={"Authorization": f"Bearer {settings.TOYCRM_API_KEY}"})
    _, body = client.call("PUT", f"/people/{payload.public_id}", json_body=_person(payload))
    return Result(external_id=str(pick(body, "id", provider=NAME)), link=True)
