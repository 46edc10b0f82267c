"""HubSpot's side of a job: the contact upsert and how its answers read."""

from django.conf import settings

from sync.providers.common import need_email, unsupported
from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.http import Client, pick
from sync.providers.hubspot.conf import NAME
from sync.providers.payload import Payload, Result

__all__ = ["cost", "credential", "perform", "preview"]

UPSERT = "/crm/v3/objects/contacts/batch/upsert"


def credential() -> str:
    return settings.HUBSPOT_ACCESS_TOKEN


def cost(action: str) -> int:
    return 1


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.HUBSPOT_BASE_URL,
                  headers={"Authorization": f"Bearer {settings.HUBSPOT_ACCESS_TOKEN}"})


def _properties(payload: Payload) -> dict:
    props = {
        "email": payload.email,
        "firstname": payload.name,
        "switchboard_id": payload.public_id,
        "stripe_customer_id": payload.stripe_id,
        "switchboard_status": payload.get("status") or "",
        "switchboard_plan": payload.get("plan") or "",
        "switchboard_mrr": str(payload.get("mrr") or 0),  # minor units; HubSpot takes strings
        "switchboard_url": payload.customer_url,
    }
    if payload.get("lifecycle_stage"):
        props["lifecyclestage"] = payload.get("lifecycle_stage")
    return {k: v for k, v in props.items() if v != ""}


def preview(payload: Payload) -> dict:
    id_property = settings.HUBSPOT_ID_PROPERTY
    key = payload.email if id_property == "email" else payload.public_id
    body = {"inputs": [{"idProperty": id_property, "id": key, "properties": _properties(payload)}]}
    return {"method": "POST", "path": UPSERT, "request": body}


def perform(payload: Payload) -> Result:
    if payload.action != "upsert_contact":
        raise unsupported(NAME, payload)
    if settings.HUBSPOT_ID_PROPERTY == "email":
        need_email(NAME, payload)
    request = preview(payload)
    status, body = _client().call("POST", UPSERT, json_body=request["request"])
    results = body.get("results") or []
    if not results:
        # 207 with only errors: HubSpot refused the input itself.
        raise ProviderError(f"{NAME} refused the contact ({body.get('numErrors', 'no')} errors)",
                            permanent=True, reason_code=ReasonCode.VALIDATION, status_code=status)
    return Result(external_id=str(pick(results[0], "id", provider=NAME)), link=True)
