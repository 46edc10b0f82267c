"""HubSpot's side of a job: the contact upsert, notes on the contact, and how its answers read."""

import html

from django.conf import settings

from sync.providers.common import NOTE_ACTION, need_email, note_marker, note_text, unsupported
from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.http import Client, pick
from sync.providers.hubspot.conf import NAME
from sync.providers.payload import Payload, Result
from sync.providers.reading import Identity, Snapshot

__all__ = ["BATCH_LIMIT", "batch_key", "cost", "credential", "listed", "perform", "perform_batch", "preview", "read"]

UPSERT = "/crm/v3/objects/contacts/batch/upsert"
NOTES = "/crm/v3/objects/notes"
NOTES_SEARCH = "/crm/v3/objects/notes/search"
NOTE_TO_CONTACT = 202  # HubSpot-defined association type: note to contact


def credential() -> str:
    return settings.HUBSPOT_ACCESS_TOKEN


def cost(action: str) -> int:
    return 3 if action == NOTE_ACTION else 1  # a note may find the contact and look for itself first


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


def _note(payload: Payload, contact_id: str) -> dict:
    # hs_note_body is shown as HTML: the text escaped, its line breaks kept.
    body = html.escape(note_text(payload)).replace("\n", "<br>")
    return {"properties": {"hs_timestamp": payload.get("written_at"), "hs_note_body": body},
            "associations": [{"to": {"id": contact_id}, "types": [
                {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_CONTACT}]}]}


def preview(payload: Payload) -> dict:
    if payload.action == NOTE_ACTION:
        contact = payload.linked_id or "(the contact, upserted by our id first)"
        return {"method": "POST", "path": NOTES, "request": _note(payload, contact)}
    return {"method": "POST", "path": UPSERT, **_contact_request(payload)}


def perform(payload: Payload) -> Result:
    if payload.action == NOTE_ACTION:
        return _add_note(_client(), payload)
    if payload.action != "upsert_contact":
        raise unsupported(NAME, payload)
    return Result(external_id=_upsert(_client(), payload), link=True)


# Contact upserts of several jobs share one request: HubSpot's batch upsert takes up to 100 inputs.
BATCH_LIMIT = 100


def batch_key(payload: Payload) -> str:
    """The contact ``payload`` upserts, when it may share a request with other jobs' ("" when not).
    Two inputs for one contact must not share a request (HubSpot refuses duplicate ids in a batch)."""
    if payload.action != "upsert_contact":
        return ""
    return _key(payload).strip().lower()


def perform_batch(payloads: list[Payload]) -> list[Result | None]:
    """Upsert several contacts (distinct ``batch_key``s, at most ``BATCH_LIMIT``) in one request.

    Per payload its Result, or None where the answer does not show that contact (HubSpot refused
    it in a 207, or it cannot be recognised): the caller sends that one again on its own, which an
    upsert makes safe, and learns why. A failure of the request itself raises, as ``perform`` does."""
    inputs = [_contact_request(payload)["request"]["inputs"][0] for payload in payloads]
    _, body = _client().call("POST", UPSERT, json_body={"inputs": inputs})
    found = {}
    for contact in body.get("results") or []:
        key = str((contact.get("properties") or {}).get(settings.HUBSPOT_ID_PROPERTY) or "").strip().lower()
        if key and contact.get("id"):
            found[key] = str(contact["id"])
    return [Result(external_id=found[key], link=True) if (key := batch_key(p)) in found else None for p in payloads]


def _key(payload: Payload) -> str:
    return payload.email if settings.HUBSPOT_ID_PROPERTY == "email" else payload.public_id


def _upsert(client: Client, payload: Payload) -> str:
    if settings.HUBSPOT_ID_PROPERTY == "email":
        need_email(NAME, payload)
    status, body = client.call("POST", UPSERT, json_body=_contact_request(payload)["request"])
    results = body.get("results") or []
    if not results:
        # 207 with only errors: HubSpot refused the input itself.
        raise ProviderError(f"{NAME} refused the contact ({body.get('numErrors', 'no')} errors)",
                            permanent=True, reason_code=ReasonCode.VALIDATION, status_code=status)
    return str(pick(results[0], "id", provider=NAME))


IDENTITY = ("email", "firstname", "switchboard_id", "stripe_customer_id", "switchboard_url")


def _contact_request(payload: Payload) -> dict:
    id_property, key = settings.HUBSPOT_ID_PROPERTY, _key(payload)
    properties = _properties(payload)
    if payload.action == NOTE_ACTION:  # finding the contact for a note: who they are, no billing facts
        properties = {k: v for k, v in properties.items() if k in IDENTITY}
    return {"request": {"inputs": [{"idProperty": id_property, "id": key, "properties": properties}]}}


def _add_note(client: Client, payload: Payload) -> Result:
    """A note engagement on the contact. HubSpot has no idempotency key: a retry first looks for the
    note among the contact's (the marker in its text), so an attempt that timed out after HubSpot
    stored the note does not store it twice. Search is eventually consistent: a retry within seconds
    of a lost answer could still miss it; retries wait longer than that (backoff)."""
    contact_id = payload.linked_id or _upsert(client, payload)
    if payload.attempt > 1:
        found = _find_note(client, payload, contact_id)
        if found:
            return Result(external_id=found)
    _, body = client.call("POST", NOTES, json_body=_note(payload, contact_id))
    return Result(external_id=str(pick(body, "id", provider=NAME)))


def _find_note(client: Client, payload: Payload, contact_id: str) -> str:
    query = {"filterGroups": [{"filters": [
        {"propertyName": "associations.contact", "operator": "EQ", "value": contact_id}]}],
        "properties": ["hs_note_body"], "sorts": [{"propertyName": "hs_timestamp", "direction": "DESCENDING"}],
        "limit": 100}
    _, body = client.call("POST", NOTES_SEARCH, json_body=query)
    marker = html.escape(note_marker(payload))
    for note in body.get("results") or []:
        if marker in str((note.get("properties") or {}).get("hs_note_body") or ""):
            return str(note.get("id") or "")
    return ""


# Read back: the properties Switchboard writes, as HubSpot holds them now.
READ_PROPERTIES = ("email", "switchboard_id", "switchboard_status", "switchboard_plan", "lifecyclestage")
SEARCH = "/crm/v3/objects/contacts/search"


def _snapshot(contact: dict) -> Snapshot:
    props = contact.get("properties") or {}
    return Snapshot(
        external_id=str(contact.get("id") or ""), public_id=props.get("switchboard_id") or "",
        email=props.get("email") or "",
        values={"status": props.get("switchboard_status") or "", "plan": props.get("switchboard_plan") or "",
                "lifecycle_stage": props.get("lifecyclestage") or ""},
    )


def read(identity: Identity) -> Snapshot | None:
    """The contact by our id property (or by email where HubSpot is keyed by email); None when absent."""
    id_property = settings.HUBSPOT_ID_PROPERTY
    key = identity.email if id_property == "email" else identity.public_id
    if not key:
        return None
    status, body = _client().call("GET", f"/crm/v3/objects/contacts/{key}",
                                  params={"idProperty": id_property, "properties": ",".join(READ_PROPERTIES)},
                                  accept=(404,))
    return None if status == 404 else _snapshot(body)


def listed(system: str, *, after: str = "") -> tuple[list[Snapshot], str]:
    """One page of the contacts that carry a Switchboard id, and the cursor of the next ("" at the end)."""
    query = {"filterGroups": [{"filters": [{"propertyName": "switchboard_id", "operator": "HAS_PROPERTY"}]}],
             "properties": list(READ_PROPERTIES), "limit": 100, **({"after": after} if after else {})}
    _, body = _client().call("POST", SEARCH, json_body=query)
    following = ((body.get("paging") or {}).get("next") or {}).get("after") or ""
    return [_snapshot(c) for c in body.get("results") or []], str(following)
