"""Kit (ConvertKit) v4: upsert the subscriber by email, add or remove tags.

Kit answers a 429 with plain text and no Retry-After: the executor's
exponential backoff and the shared token bucket handle it.
"""

from django.conf import settings

from customers.models import Customer
from sync.models import SyncJob
from sync.providers import Result
from sync.providers.common import need_email, unsupported
from sync.providers.http import Client, pick

NAME = "kit"
LABEL = "Kit"
CREDENTIALS = ("KIT_API_KEY",)  # settings that must all be set
_tag_ids: dict[tuple[str, str], str] = {}  # (base url, tag name) -> id; tags are never renamed by us


def credential() -> str:
    return settings.KIT_API_KEY


def cost(action: str) -> int:
    return 3 if action == "add_tag" else 2


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.KIT_BASE_URL, headers={"X-Kit-Api-Key": settings.KIT_API_KEY})


def _subscriber(customer: Customer) -> dict:
    return {"email_address": customer.email, "first_name": customer.name}


def preview(*, job: SyncJob, customer: Customer) -> dict:
    if job.action == "remove_tag":
        return {"method": "DELETE", "path": "/v4/tags/{tag_id}/subscribers", "tag": job.payload.get("tag")}
    return {"method": "POST", "path": "/v4/subscribers", "request": _subscriber(customer),
            "then": {"tag": job.payload.get("tag")}}


def _tag_id(client: Client, name: str) -> str:
    key = (settings.KIT_BASE_URL, name)
    if key not in _tag_ids:
        _, body = client.call("POST", "/v4/tags", json_body={"name": name})
        _tag_ids[key] = str(pick(body, "tag", "id", provider=NAME))
    return _tag_ids[key]


def perform(*, job: SyncJob, customer: Customer) -> Result:
    need_email(NAME, customer)
    client = _client()
    if job.action in ("upsert_subscriber", "add_tag"):
        _, body = client.call("POST", "/v4/subscribers", json_body=_subscriber(customer))
        subscriber_id = str(pick(body, "subscriber", "id", provider=NAME))
        if job.action == "add_tag":
            tag_id = _tag_id(client, job.payload["tag"])
            client.call("POST", f"/v4/tags/{tag_id}/subscribers/{subscriber_id}", json_body={})
        return Result(external_id=subscriber_id, link=True)
    if job.action == "remove_tag":
        tag_id = _tag_id(client, job.payload["tag"])
        # 404: the subscriber or the tag is not there, which is what we wanted.
        client.call("DELETE", f"/v4/tags/{tag_id}/subscribers", json_body={"email_address": customer.email},
                    accept=(404,))
        return Result()
    raise unsupported(NAME, job)
