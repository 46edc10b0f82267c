"""Circle's side of a job: find the member by email, create or add to spaces, or remove."""

from django.conf import settings

from sync.providers.circle.conf import NAME
from sync.providers.common import REMOVE_SPACES, need_email, unsupported
from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.http import Client, pick
from sync.providers.payload import Payload, Result
from sync.providers.reading import Identity, Snapshot

__all__ = ["CONCURRENT_CALLS", "cost", "credential", "perform", "preview", "read"]

# One job's calls depend on nothing another job's do: a batch may have several jobs' calls in flight.
CONCURRENT_CALLS = True


def credential() -> str:
    return settings.CIRCLE_API_TOKEN


def cost(action: str) -> int:
    # a read is one search; the changes find the member first
    return {"grant_access": 4, "read": 1}.get(action, 2)


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.CIRCLE_BASE_URL,
                  headers={"Authorization": f"Bearer {settings.CIRCLE_API_TOKEN}"})


def _new_member(payload: Payload) -> dict:
    return {"email": payload.email, "name": payload.name or payload.email,
            "space_ids": list(payload.get("spaces") or []), "skip_invitation": False}


def preview(payload: Payload) -> dict:
    if payload.action == "revoke_access":
        return {"method": "DELETE", "path": "/community_members/{id}"}
    if payload.action == REMOVE_SPACES:
        return {"method": "DELETE", "path": "/space_members", "params": [{"email": payload.email, "space_id": s}
                                                                       for s in payload.get("spaces") or []]}
    return {"method": "POST", "path": "/community_members", "request": _new_member(payload)}


def _find(client: Client, payload: Payload) -> str:
    status, body = client.call("GET", "/community_members/search", params={"email": payload.email}, accept=(404,))
    if status == 404:
        return ""
    return str(pick(body.get("community_member") or body, "id", provider=NAME))


def perform(payload: Payload) -> Result:
    need_email(NAME, payload)
    client = _client()
    if payload.action == REMOVE_SPACES:
        # By email, one space at a time; a member already out of the space (404) is what was wanted.
        for space_id in payload.get("spaces") or []:
            client.call("DELETE", "/space_members", params={"email": payload.email, "space_id": space_id},
                        accept=(404,))
        return Result()
    member_id = _find(client, payload)
    if payload.action == "grant_access":
        if not member_id:
            _, body = client.call("POST", "/community_members", json_body=_new_member(payload))
            return Result(external_id=str(pick(body, "community_member", "id", provider=NAME)), link=True)
        for space_id in payload.get("spaces") or []:
            status, body = client.call("POST", "/space_members", json_body={"email": payload.email,
                                                                            "space_id": space_id},
                                       accept=(409, 422))
            if status in (409, 422) and "already" not in str(body).lower():
                raise ProviderError(f"{NAME} refused space {space_id}", permanent=True,
                                    reason_code=ReasonCode.VALIDATION, status_code=status)
        return Result(external_id=member_id, link=True)
    if payload.action == "revoke_access":
        if member_id:
            client.call("DELETE", f"/community_members/{member_id}", accept=(404,))
        return Result()
    raise unsupported(NAME, payload)


def read(identity: Identity) -> Snapshot | None:
    """The member by email, with the spaces Circle lists for them; None when not a member."""
    if not identity.email:
        return None
    status, body = _client().call("GET", "/community_members/search", params={"email": identity.email},
                                  accept=(404,))
    if status == 404:
        return None
    member = body.get("community_member") or body
    spaces = member.get("space_ids")
    return Snapshot(external_id=str(pick(member, "id", provider=NAME)), email=member.get("email") or identity.email,
                    spaces=frozenset(int(s) for s in spaces) if isinstance(spaces, list) else None)
