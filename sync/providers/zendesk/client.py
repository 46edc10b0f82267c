"""Zendesk's side of a job: users by our external id, tickets keyed by the job's idempotency key, a
ticket opened for a requester who was not a customer handed to the customer's user once linked, and a
person's change of a ticket (status, priority, group, a reply or a comment) in one update."""

from django.conf import settings

from sync.providers.common import need_email, ticket_text, unsupported
from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.http import Client, pick
from sync.providers.payload import Payload, Result
from sync.providers.reading import Identity, Snapshot
from sync.providers.zendesk.conf import LABEL, NAME

__all__ = ["CONCURRENT_CALLS", "cost", "credential", "listed", "perform", "preview", "read"]

# One job's calls depend on nothing another job's do: a batch may have several jobs' calls in flight.
CONCURRENT_CALLS = True


def credential() -> str:
    return f"{settings.ZENDESK_BASE_URL}:{settings.ZENDESK_EMAIL}:{settings.ZENDESK_API_TOKEN}"


def cost(action: str) -> int:
    # create: look up, then create; update: find the ticket, then the customer's user or the group (or, on
    # a retry, the ticket's audits), then the ticket itself
    return {"create_ticket": 2, "update_ticket": 4}.get(action, 1)


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


def _update(payload: Payload, requester_id) -> dict:
    """The ticket is the customer's now: their user is its requester, and it takes their tags."""
    ticket = {"requester_id": requester_id, "additional_tags": list(payload.get("tags") or [])}
    if payload.get("remove_tags"):
        ticket["remove_tags"] = list(payload.get("remove_tags"))
    return {"ticket": ticket}


# Our statuses -> Zendesk's ("pending" there is waiting for the customer).
DESK_STATUS = {"open": "open", "waiting": "pending", "hold": "hold", "solved": "solved"}


def _change(payload: Payload, group_id) -> dict:
    """A person's change: fields and a comment in one call, marked with the job's key on the desk's
    audit (its custom metadata), so a retry can see whether the change already arrived."""
    asked = payload.get("change") or {}
    ticket: dict = {"metadata": {"switchboard_change": payload.idempotency_key}}
    if asked.get("status"):
        ticket["status"] = DESK_STATUS.get(asked["status"], asked["status"])
    if asked.get("priority"):
        ticket["priority"] = asked["priority"]
    if group_id is not None:
        ticket["group_id"] = group_id
    if asked.get("comment"):
        ticket["comment"] = {"body": asked["comment"]["body"], "public": bool(asked["comment"].get("public"))}
    return {"ticket": ticket}


def _group_id(client: Client, payload: Payload):
    """The group the change names: a Zendesk group id as given, else the group of that name there."""
    name = str((payload.get("change") or {}).get("group") or "")
    if not name:
        return None
    if name.isdigit():
        return int(name)
    _, body = client.call("GET", "/api/v2/groups")
    for group in body.get("groups") or []:
        if str(group.get("name", "")).strip().lower() == name.strip().lower():
            return int(group["id"])
    raise ProviderError(f"{NAME} has no group named “{name}”: create it there or change the routing rules",
                        permanent=True, reason_code=ReasonCode.VALIDATION)


def _arrived(client: Client, ticket_id: str, key: str) -> bool:
    """Whether an earlier attempt's change is on the ticket already (its audit carries our key)."""
    _, body = client.call("GET", f"/api/v2/tickets/{ticket_id}/audits")
    return any(((audit.get("metadata") or {}).get("custom") or {}).get("switchboard_change") == key
               for audit in body.get("audits") or [])


def _refusal(body: dict) -> str:
    """The desk's own words for a refused change: each field's description, else the error's."""
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    said = [d.get("description", "") for errors in details.values() for d in errors if isinstance(d, dict)]
    error = body.get("error")
    return "; ".join(s for s in said if s) or body.get("description") or (error if isinstance(error, str) else "")


def _apply_change(client: Client, payload: Payload) -> Result:
    ticket_id = _desk_ticket_id(client, payload)
    if payload.attempt > 1 and _arrived(client, ticket_id, payload.idempotency_key):
        return Result(external_id=ticket_id)  # the earlier answer was lost, not the change
    status, body = client.call("PUT", f"/api/v2/tickets/{ticket_id}",
                               json_body=_change(payload, _group_id(client, payload)), accept=(422,))
    if status == 422:
        raise ProviderError(f"{LABEL} refused the change: {_refusal(body) or 'no reason given'}", permanent=True,
                            reason_code=ReasonCode.VALIDATION, status_code=422)
    return Result(external_id=ticket_id)


def _requester_id(client: Client, payload: Payload) -> int:
    """The customer's user: known from an earlier sync, else found or created by our external id."""
    if payload.linked_id.isdigit():
        return int(payload.linked_id)
    user = {"name": payload.name or payload.email, "email": payload.email, "external_id": payload.public_id}
    _, body = client.call("POST", "/api/v2/users/create_or_update", json_body={"user": user})
    return int(pick(body, "user", "id", provider=NAME))


def _desk_ticket_id(client: Client, payload: Payload) -> str:
    """The ticket's id in Zendesk: known when it was linked, else found by the key it was created with."""
    known = str(payload.get("desk_ticket_id") or "")
    if known.isdigit():
        return known
    _, found = client.call("GET", "/api/v2/tickets", params={"external_id": payload.get("desk_ticket_key")})
    if found.get("tickets"):
        return str(found["tickets"][0]["id"])
    # Its create job has not run yet (or is failing): try again later rather than update nothing.
    raise ProviderError(f"{NAME} has no ticket for this message yet", permanent=False,
                        reason_code=ReasonCode.NOT_FOUND)


def preview(payload: Payload) -> dict:
    if payload.action == "update_ticket":
        desk_id = payload.get("desk_ticket_id") or f"(ticket with external_id {payload.get('desk_ticket_key')})"
        if payload.get("change"):
            group = (payload.get("change") or {}).get("group")
            return {"method": "PUT", "path": f"/api/v2/tickets/{desk_id}",
                    "request": _change(payload, f"(group {group})" if group else None)}
        requester = int(payload.linked_id) if payload.linked_id.isdigit() else f"(user {payload.public_id})"
        return {"method": "PUT", "path": f"/api/v2/tickets/{desk_id}", "request": _update(payload, requester)}
    if payload.action == "create_ticket":
        return {"method": "POST", "path": "/api/v2/tickets", "request": _ticket(payload)}
    return {"method": "POST", "path": "/api/v2/users/create_or_update", "request": _user(payload)}


def perform(payload: Payload) -> Result:
    client = _client()
    if payload.action == "update_ticket" and payload.get("change"):
        return _apply_change(client, payload)  # a person's change: the ticket's requester stays as it is
    need_email(NAME, payload)
    if payload.action == "upsert_user":
        _, body = client.call("POST", "/api/v2/users/create_or_update", json_body=_user(payload))
        return Result(external_id=str(pick(body, "user", "id", provider=NAME)), link=True)
    if payload.action == "update_ticket":
        ticket_id = _desk_ticket_id(client, payload)
        client.call("PUT", f"/api/v2/tickets/{ticket_id}", json_body=_update(payload, _requester_id(client, payload)))
        return Result(external_id=ticket_id)
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


def _snapshot(user: dict) -> Snapshot:
    return Snapshot(external_id=str(pick(user, "id", provider=NAME)), public_id=str(user.get("external_id") or ""),
                    email=user.get("email") or "", tags=frozenset(user.get("tags") or ()))


def read(identity: Identity) -> Snapshot | None:
    """The desk's user by our external id, with its tags; None when the desk has none."""
    _, body = _client().call("GET", "/api/v2/users/search", params={"external_id": identity.public_id})
    users = body.get("users") or []
    return _snapshot(users[0]) if users else None


OUR_IDS = "sw_"  # how our external ids begin; another integration may set external ids of its own


def listed(system: str, *, after: str = "") -> tuple[list[Snapshot], str]:
    """One page of the desk's end users that carry one of our ids, and the cursor of the next ("" at
    the end). Zendesk cannot filter users by external id, so each page is the end users as they come
    (cursor pagination, 100 a page) and only ours are kept."""
    params = {"role": "end-user", "page[size]": 100, **({"page[after]": after} if after else {})}
    _, body = _client().call("GET", "/api/v2/users", params=params)
    meta = body.get("meta") or {}
    following = str(meta.get("after_cursor") or "") if meta.get("has_more") else ""
    users = [u for u in body.get("users") or [] if str(u.get("external_id") or "").startswith(OUR_IDS)]
    return [_snapshot(u) for u in users], following
