"""HubSpot CRM v3: one upsert per job, keyed by our id (or email), through batch upsert."""

from django.conf import settings

from customers.models import Customer
from sync.models import ReasonCode, SyncJob
from sync.providers import Result
from sync.providers.common import customer_url, need_email, stripe_id, unsupported
from sync.providers.http import Client, ProviderError, pick

NAME = "hubspot"
LABEL = "HubSpot"
CREDENTIALS = ("HUBSPOT_ACCESS_TOKEN",)  # settings that must all be set
UPSERT = "/crm/v3/objects/contacts/batch/upsert"


def credential() -> str:
    return settings.HUBSPOT_ACCESS_TOKEN


def cost(action: str) -> int:
    return 1


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.HUBSPOT_BASE_URL,
                  headers={"Authorization": f"Bearer {settings.HUBSPOT_ACCESS_TOKEN}"})


def _properties(job: SyncJob, customer: Customer) -> dict:
    p = job.payload
    props = {
        "email": customer.email,
        "firstname": customer.name,
        "switchboard_id": customer.public_id,
        "stripe_customer_id": stripe_id(customer),
        "switchboard_status": p.get("status") or "",
        "switchboard_plan": p.get("plan") or "",
        "switchboard_mrr": str(p.get("mrr") or 0),  # minor units; HubSpot takes strings
        "switchboard_url": customer_url(customer),
    }
    if p.get("lifecycle_stage"):
        props["lifecyclestage"] = p["lifecycle_stage"]
    return {k: v for k, v in props.items() if v != ""}


def preview(*, job: SyncJob, customer: Customer) -> dict:
    id_property = settings.HUBSPOT_ID_PROPERTY
    key = customer.email if id_property == "email" else customer.public_id
    body = {"inputs": [{"idProperty": id_property, "id": key, "properties": _properties(job, customer)}]}
    return {"method": "POST", "path": UPSERT, "request": body}


def perform(*, job: SyncJob, customer: Customer) -> Result:
    if job.action != "upsert_contact":
        raise unsupported(NAME, job)
    if settings.HUBSPOT_ID_PROPERTY == "email":
        need_email(NAME, customer)
    request = preview(job=job, customer=customer)
    status, body = _client().call("POST", UPSERT, json_body=request["request"])
    results = body.get("results") or []
    if not results:
        # 207 with only errors: HubSpot refused the input itself.
        raise ProviderError(f"{NAME} refused the contact ({body.get('numErrors', 'no')} errors)",
                            permanent=True, reason_code=ReasonCode.VALIDATION, status_code=status)
    return Result(external_id=str(pick(results[0], "id", provider=NAME)), link=True)
