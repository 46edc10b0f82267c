"""Kit's side of a job: upsert the subscriber by email, then tag or untag."""

from django.conf import settings

from sync.providers.common import need_email, unsupported
from sync.providers.http import Client, pick
from sync.providers.kit.conf import NAME
from sync.providers.payload import Payload, Result
from sync.providers.reading import Identity, Snapshot

__all__ = ["CONCURRENT_CALLS", "cost", "credential", "perform", "preview", "read"]

_tag_ids: dict[tuple[str, str], str] = {}  # (base url, tag name) -> id; tags are never renamed by us
# (Two calls looking a tag up at once both get its id: Kit answers an existing name with its tag.)

# One job's calls depend on nothing another job's do: a batch may have several jobs' calls in flight.
CONCURRENT_CALLS = True


def credential() -> str:
    return settings.KIT_API_KEY


def cost(action: str) -> int:
    return 3 if action == "add_tag" else 2


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.KIT_BASE_URL, headers={"X-Kit-Api-Key": settings.KIT_API_KEY})


def _subscriber(payload: Payload) -> dict:
    return {"email_address": payload.email, "first_name": payload.name}


def preview(payload: Payload) -> dict:
    if payload.action == "remove_tag":
        return {"method": "DELETE", "path": "/v4/tags/{tag_id}/subscribers", "tag": payload.get("tag")}
    return {"method": "POST", "path": "/v4/subscribers", "request": _subscriber(payload),
            "then": {"tag": payload.get("tag")}}


def _tag_id(client: Client, name: str) -> str:
    key = (settings.KIT_BASE_URL, name)
    if key not in _tag_ids:
        _, body = client.call("POST", "/v4/tags", json_body={"name": name})
        _tag_ids[key] = str(pick(body, "tag", "id", provider=NAME))
    return _tag_ids[key]


def perform(payload: Payload) -> Result:
    need_email(NAME, payload)
    client = _client()
    if payload.action in ("upsert_subscriber", "add_tag"):
        # A customer's jobs in one batch (two tags, say) upsert the same subscriber: sent once.
        _, body = client.call_once("POST", "/v4/subscribers", json_body=_subscriber(payload))
        subscriber_id = str(pick(body, "subscriber", "id", provider=NAME))
        if payload.action == "add_tag":
            tag_id = _tag_id(client, payload.data["tag"])
            client.call("POST", f"/v4/tags/{tag_id}/subscribers/{subscriber_id}", json_body={})
        return Result(external_id=subscriber_id, link=True)
    if payload.action == "remove_tag":
        tag_id = _tag_id(client, payload.data["tag"])
        # 404: the subscriber or the tag is not there, which is what we wanted.
        client.call("DELETE", f"/v4/tags/{tag_id}/subscribers", json_body={"email_address": payload.email},
                    accept=(404,))
        return Result()
    raise unsupported(NAME, payload)


def read(identity: Identity) -> Snapshot | None:
    """The subscriber by email and the tags on it (two requests); None when Kit has no such subscriber."""
    if not identity.email:
        return None
    client = _client()
    _, body = client.call("GET", "/v4/subscribers", params={"email_address": identity.email})
    found = body.get("subscribers") or []
    if not found:
        return None
    subscriber_id = str(pick(found[0], "id", provider=NAME))
    _, tagged = client.call("GET", f"/v4/subscribers/{subscriber_id}/tags")
    return Snapshot(external_id=subscriber_id, email=found[0].get("email_address") or identity.email,
                    tags=frozenset(t["name"] for t in tagged.get("tags") or [] if t.get("name")))
