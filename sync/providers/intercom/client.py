"""Intercom's side of a job: contacts by our external id (search, then update or create), tags, tickets,
notes on a contact, and a person's change of a ticket (its state, a reply or a note)."""

import re
from dataclasses import replace

from django.conf import settings

from sync.providers.common import NOTE_ACTION, note_marker, note_text, ticket_text, unsupported
from sync.providers.errors import ProviderError, ReasonCode
from sync.providers.http import Client, pick
from sync.providers.intercom.conf import LABEL, NAME
from sync.providers.payload import Payload, Result
from sync.providers.reading import Identity, Snapshot

__all__ = ["CONCURRENT_CALLS", "cost", "credential", "listed", "perform", "preview", "read"]

VERSION = "2.14"
CONTACT_ACTIONS = {"upsert_contact", "upsert_user"}
_EXISTING_ID = re.compile(r"id=([0-9a-f]+)")

# One job's calls depend on nothing another job's do: a batch may have several jobs' calls in flight.
CONCURRENT_CALLS = True


def credential() -> str:
    return settings.INTERCOM_ACCESS_TOKEN


def cost(action: str) -> int:
    # a ticket: a search on a retry, the sender's lead when not a customer, then the creation (its tags, two
    # calls each, are not counted ahead); a hand-over: the ticket's search and read, the contact's search and
    # creation, a tag
    # a read: the contact's search and its tags
    return {"update_ticket": 5, "create_ticket": 3, NOTE_ACTION: 2, "read": 2, **dict.fromkeys(CONTACT_ACTIONS, 2)}.get(
        action, 1)


def _client() -> Client:
    return Client(provider=NAME, base_url=settings.INTERCOM_BASE_URL,
                  headers={"Authorization": f"Bearer {settings.INTERCOM_ACCESS_TOKEN}", "Intercom-Version": VERSION})


def _contact(payload: Payload) -> dict:
    return {"role": "user", "external_id": payload.public_id, "email": payload.email or None,
            "name": payload.name or None,
            "custom_attributes": {"plan": payload.get("plan") or "", "status": payload.get("status") or "",
                                  "mrr": payload.get("mrr") or 0, "stripe_customer_id": payload.stripe_id}}


def _note(payload: Payload) -> dict:
    note = {"body": note_text(payload)}
    if settings.INTERCOM_ADMIN_ID:  # the teammate the note is written as (older API versions require one)
        note["admin_id"] = settings.INTERCOM_ADMIN_ID
    return note


def preview(payload: Payload) -> dict:
    asked = payload.get("change") or {}
    if payload.action == "update_ticket" and asked:
        if _change_refused(asked, 1):
            return {"note": _change_refused(asked, 1)}
        if asked.get("comment"):
            return {"method": "POST", "path": f"/tickets/{payload.get('desk_ticket_id')}/reply",
                    "request": _reply(asked["comment"])}
        return {"method": "PUT", "path": f"/tickets/{payload.get('desk_ticket_id')}",
                "request": {"state": TICKET_STATES[asked["status"]]}}
    if payload.action == "update_ticket":
        return {"note": f"{LABEL} cannot change a ticket's contact: the customer's contact and the ticket's tags "
                        "would be sent, the contact added by hand"}
    if payload.action == NOTE_ACTION:
        contact = payload.linked_id or "{contact found by our external id}"
        return {"method": "POST", "path": f"/contacts/{contact}/notes", "request": _note(payload)}
    if payload.action == "create_ticket":
        tags, note = _ticket_tags(payload)
        return {"method": "POST", "path": "/tickets", "request": _ticket(payload), "tags": tags,
                **({"note": note} if note else {})}
    return {"method": "POST", "path": "/contacts", "request": _contact(payload)}


def _find(client: Client, payload: Payload) -> str:
    query = {"query": {"field": "external_id", "operator": "=", "value": payload.public_id}}
    _, body = client.call("POST", "/contacts/search", json_body=query)
    data = body.get("data") or []
    return str(data[0]["id"]) if data else ""


def _upsert(client: Client, payload: Payload, *, update: bool = True) -> str:
    """The customer's contact by our id, made if missing and (``update``) given the customer's facts."""
    contact = _contact(payload)
    if not update:  # only who they are: a payload without the customer's facts must not blank them there
        contact = {k: v for k, v in contact.items() if k != "custom_attributes"}
    contact_id = _find(client, payload)
    if contact_id and not update:
        return contact_id
    if not contact_id:
        status, body = client.call("POST", "/contacts", json_body=contact, accept=(409,))
        if status != 409:
            return str(pick(body, "id", provider=NAME))
        # Created meanwhile (search is eventually consistent): the error names the existing id.
        message = " ".join(e.get("message", "") for e in body.get("errors", []))
        match = _EXISTING_ID.search(message)
        if not match:
            raise ProviderError(f"{NAME} reports a conflicting contact", permanent=True,
                                reason_code=ReasonCode.CONFLICT, status_code=409)
        contact_id = _ours(client, payload, match.group(1))
    _, body = client.call("PUT", f"/contacts/{contact_id}", json_body=contact)
    return str(pick(body, "id", provider=NAME))


def ticket_marker(payload: Payload, key: str = "") -> str:
    """The words that find a ticket again in Intercom: it has no idempotency key and no external id."""
    return f"Switchboard ticket {key or payload.idempotency_key}"


def _ours(client: Client, payload: Payload, contact_id: str) -> str:
    """The contact a 409 named, if it is this customer's. Intercom answers 409 for the same email too, and
    a contact is never taken by its email alone: one with another external id, or none, is a person's call."""
    _, body = client.call("GET", f"/contacts/{contact_id}")
    theirs = str(body.get("external_id") or "")
    if theirs == payload.public_id:
        return contact_id  # ours, created meanwhile (search is eventually consistent)
    whose = f"another customer's (external id {theirs})" if theirs else "a contact without our id"
    raise ProviderError(f"{LABEL} already has this email on {whose}, contact {contact_id}: Switchboard matches "
                        f"by its own id only, so merge or relabel the contact in {LABEL}, then retry",
                        permanent=True, reason_code=ReasonCode.CONFLICT, status_code=409)


def _ticket(payload: Payload, sender: dict | None = None) -> dict:
    subject, body = ticket_text(payload)
    # Matched by our id only: a requester who is not a customer yet has none, and is the contact Intercom
    # has (or makes) for the email they gave, the one case where email alone decides.
    contact = {"external_id": payload.public_id} if payload.public_id else (sender or {"email": payload.email})
    return {"ticket_type_id": settings.INTERCOM_TICKET_TYPE_ID,
            "contacts": [contact],
            "ticket_attributes": {"_default_title_": subject,
                                  "_default_description_": f"{body}\n\n— {ticket_marker(payload)}"}}


def _sender(client: Client, payload: Payload) -> dict:
    """Someone who is not a customer yet: a lead with the name and email they gave, or the contact Intercom
    already has for that email (its 409 names it), as a ticket names it."""
    lead = {"role": "lead", "email": payload.email, "name": payload.name or None}
    status, body = client.call("POST", "/contacts", json_body=lead, accept=(409,))
    if status != 409:
        return {"id": str(pick(body, "id", provider=NAME))}
    match = _EXISTING_ID.search(" ".join(str(e.get("message", "")) for e in body.get("errors") or []))
    return {"id": match.group(1)} if match else {"email": payload.email}


def _existing_ticket(client: Client, payload: Payload, key: str = "") -> str:
    """The ticket an earlier attempt created (its answer lost), or the one created with ``key``, found by
    the marker in its description; "" when there is none. Intercom's search is eventually consistent, but
    a retry comes after a backoff."""
    marker = ticket_marker(payload, key)
    query = {"query": {"operator": "AND", "value": [
        {"field": "ticket_type_id", "operator": "=", "value": str(settings.INTERCOM_TICKET_TYPE_ID)},
        {"field": "description", "operator": "~", "value": marker}]}}
    _, body = client.call("POST", "/tickets/search", json_body=query)
    for ticket in body.get("tickets") or body.get("data") or []:
        description = str((ticket.get("ticket_attributes") or {}).get("_default_description_") or "")
        if description.endswith(marker):  # "~" is "contains": the key must be exactly ours
            return str(ticket.get("id") or "")
    return ""


def _create_ticket(client: Client, payload: Payload) -> Result:
    if not settings.INTERCOM_TICKET_TYPE_ID:
        raise ProviderError("INTERCOM_TICKET_TYPE_ID is not set", permanent=True, reason_code=ReasonCode.VALIDATION)
    ticket_id = _existing_ticket(client, payload) if payload.attempt > 1 else ""
    if not ticket_id:
        sender = None if payload.public_id else _sender(client, payload)
        _, body = client.call("POST", "/tickets", json_body=_ticket(payload, sender))
        ticket_id = str(pick(body, "id", provider=NAME))
    tags, note = _ticket_tags(payload)
    _tag_ticket(client, ticket_id, tags)
    return Result(external_id=ticket_id, note=note)


def _tag_id(client: Client, name: str) -> str:
    _, body = client.call("POST", "/tags", json_body={"name": name})  # made if missing, else the same tag
    return str(pick(body, "id", provider=NAME))


def _tag_ticket(client: Client, ticket_id: str, tags: list[str], remove: list[str] = ()) -> None:
    """Tag the ticket as the teammate; tagging or untagging twice is harmless, so a retry does it again."""
    admin = {"admin_id": settings.INTERCOM_ADMIN_ID}
    for tag in tags:
        client.call("POST", f"/tickets/{ticket_id}/tags", json_body={"id": _tag_id(client, tag), **admin})
    for tag in remove:
        client.call("DELETE", f"/tickets/{ticket_id}/tags/{_tag_id(client, tag)}", json_body=admin, accept=(404,))


def _hand_over(client: Client, payload: Payload) -> Result:
    """A ticket opened for someone who was not a customer is the customer's now. Intercom's ticket update
    takes no contacts, so the ticket cannot change hands from here: the customer's contact is made sure of
    (by our id) and the ticket takes their tags, then the job says, for good, what a person does by hand."""
    key = str(payload.get("desk_ticket_key") or "")
    ticket_id = _desk_id(payload) or (_existing_ticket(client, payload, key) if key else "")
    if not ticket_id:  # its create job has not run yet (or is failing): try again later
        raise ProviderError(f"{LABEL} has no ticket for this message yet", permanent=False,
                            reason_code=ReasonCode.NOT_FOUND)
    tagged = bool(settings.INTERCOM_ADMIN_ID)
    if tagged:
        _tag_ticket(client, ticket_id, list(payload.get("tags") or []), list(payload.get("remove_tags") or []))
    _, ticket = client.call("GET", f"/tickets/{ticket_id}")
    named = (ticket.get("contacts") or {}).get("contacts") or []
    if any(str(c.get("external_id") or "") == payload.public_id for c in named):
        return Result(external_id=ticket_id)  # created after the link: the customer's ticket already
    contact_id = _upsert(client, payload, update=False)
    done = "it took the customer's tags" if tagged else "tags not applied (set INTERCOM_ADMIN_ID)"
    raise ProviderError(f"{LABEL} cannot change a ticket's contact ({done}): open ticket {ticket_id} in {LABEL} "
                        f"and add the customer's contact {contact_id} to it by hand", permanent=True,
                        reason_code=ReasonCode.VALIDATION)


def _ticket_tags(payload: Payload) -> tuple[list[str], str]:
    """The routing rules' tags for the ticket, and a sentence for what Intercom cannot take: its tickets
    have no priority (a raised one becomes a tag) and no group Switchboard sets; tagging needs an admin."""
    tags, said = list(payload.get("tags") or []), []
    priority = str(payload.get("priority") or "")
    if priority in RAISED_PRIORITIES:
        tags.append(f"priority-{priority}")
        said.append(f"{LABEL} tickets have no priority: tagged priority-{priority} instead")
    if payload.get("group"):
        said.append(f"{LABEL} tickets take no group from Switchboard: assign the team “{payload.get('group')}” "
                    f"there (or by a {LABEL} workflow on the tags)")
    if tags and not settings.INTERCOM_ADMIN_ID:
        said.append(f"tags not applied: {LABEL} tags a ticket only as a teammate (set INTERCOM_ADMIN_ID)")
        tags = []
    return tags, "; ".join(said)


RAISED_PRIORITIES = ("high", "urgent")
# Our statuses -> Intercom's ticket states (it has no "on hold").
TICKET_STATES = {"open": "in_progress", "waiting": "waiting_on_customer", "solved": "resolved"}


def _change_refused(asked: dict, attempt: int) -> str:
    """Why this change cannot go to Intercom, as a sentence; "" when it can."""
    cannot = [name for name in ("priority", "group") if asked.get(name)]
    if asked.get("status") and asked["status"] not in TICKET_STATES:
        cannot.append("the status on hold")
    if cannot:
        return f"{LABEL} tickets have no {' or '.join(cannot)} Switchboard can set: change it in {LABEL} itself"
    if asked.get("comment") and not settings.INTERCOM_ADMIN_ID:
        return f"{LABEL} needs INTERCOM_ADMIN_ID (the teammate who writes) before Switchboard can reply"
    if asked.get("comment") and attempt > 1 and not asked.get("asked_at"):
        # Intercom has no idempotency key; without the time the change was asked, an earlier attempt's
        # reply cannot be told from another: a person checks rather than the customer getting it twice.
        return f"An earlier attempt may have reached {LABEL}: check the ticket there before sending again"
    return ""


def _plain(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html or "").split())


def _arrived(client: Client, ticket_id: str, asked: dict) -> bool:
    """Whether an earlier attempt's reply or note is on the ticket already: Intercom has no idempotency key,
    so it is a part of that kind by our teammate, with the same text, written since the change was asked."""
    _, ticket = client.call("GET", f"/tickets/{ticket_id}")
    kind, text = _reply(asked["comment"])["message_type"], _plain(asked["comment"]["body"])
    since = int(asked["asked_at"]) - 5  # a few seconds for the two clocks
    for part in (ticket.get("ticket_parts") or {}).get("ticket_parts") or []:
        author = part.get("author") or {}
        if (part.get("part_type") == kind and str(author.get("id") or "") == str(settings.INTERCOM_ADMIN_ID)
                and int(part.get("created_at") or 0) >= since and _plain(str(part.get("body") or "")) == text):
            return True
    return False


def _change(client: Client, payload: Payload) -> Result:
    """A person's change: the state by the ticket update, a reply or note by the ticket reply."""
    asked = payload.get("change") or {}
    refused = _change_refused(asked, payload.attempt)
    if refused:
        raise ProviderError(refused, permanent=True, reason_code=ReasonCode.VALIDATION)
    ticket_id = _desk_id(payload)
    if not ticket_id:
        raise ProviderError(f"{LABEL} has no ticket for this message yet", permanent=False,
                            reason_code=ReasonCode.NOT_FOUND)
    if asked.get("status"):  # first: setting a state twice is harmless, a reply is not
        state = {"state": TICKET_STATES[asked["status"]]}
        _refused_by_desk(*client.call("PUT", f"/tickets/{ticket_id}", json_body=state, accept=REFUSALS))
    if asked.get("comment") and not (payload.attempt > 1 and _arrived(client, ticket_id, asked)):
        _refused_by_desk(*client.call("POST", f"/tickets/{ticket_id}/reply", json_body=_reply(asked["comment"]),
                                      accept=REFUSALS))
    return Result(external_id=ticket_id)


def _desk_id(payload: Payload) -> str:
    """The ticket's Intercom id when known: a sandbox id (a ticket only simulated so far) is none."""
    known = str(payload.get("desk_ticket_id") or "")
    return known if known.isdigit() else ""


REFUSALS = (400, 404, 409, 422)  # Intercom's answers that refuse a change, with its reasons in ``errors``


def _refused_by_desk(status: int, body: dict) -> None:
    """A refused change fails for good in Intercom's own words, as Zendesk's does in its."""
    if status < 400:
        return
    said = "; ".join(str(e.get("message") or "") for e in body.get("errors") or [] if isinstance(e, dict))
    raise ProviderError(f"{LABEL} refused the change: {said or f'answered {status}'}", permanent=True,
                        reason_code=ReasonCode.VALIDATION, status_code=status)


def _reply(comment: dict) -> dict:
    return {"message_type": "comment" if comment.get("public") else "note", "type": "admin",
            "admin_id": settings.INTERCOM_ADMIN_ID, "body": comment["body"]}


def perform(payload: Payload) -> Result:
    client = _client()
    if payload.action in CONTACT_ACTIONS:
        contact_id = _upsert(client, payload)
        for tag in payload.get("tags") or []:
            _, tag_body = client.call("POST", "/tags", json_body={"name": tag})
            client.call("POST", f"/contacts/{contact_id}/tags", json_body={"id": pick(tag_body, "id", provider=NAME)})
        _untag(client, contact_id, set(payload.get("remove_tags") or ()))
        return Result(external_id=contact_id, link=True)
    if payload.action == "create_ticket":
        return _create_ticket(client, payload)
    if payload.action == "update_ticket" and payload.get("change"):
        return _change(client, payload)
    if payload.action == "update_ticket":
        return _hand_over(client, payload)
    if payload.action == NOTE_ACTION:
        return _add_note(client, payload)
    raise unsupported(NAME, payload)


def _add_note(client: Client, payload: Payload) -> Result:
    """A note on the contact. Intercom has no idempotency key: a retry first reads the contact's notes
    for this note's marker, so an attempt whose answer was lost does not write the note twice."""
    contact_id = payload.linked_id or _find(client, payload) or _upsert(client, payload)
    if payload.attempt > 1:
        _, body = client.call("GET", f"/contacts/{contact_id}/notes", params={"per_page": 50})
        marker = note_marker(payload)
        for note in body.get("data") or []:
            if marker in str(note.get("body") or ""):
                return Result(external_id=str(note.get("id") or ""))
    _, body = client.call("POST", f"/contacts/{contact_id}/notes", json_body=_note(payload))
    return Result(external_id=str(pick(body, "id", provider=NAME)))


def _contact_tags(client: Client, contact_id: str) -> dict[str, str]:
    """The tags on a contact, name -> id (the contact itself lists only their ids)."""
    _, body = client.call("GET", f"/contacts/{contact_id}/tags")
    return {str(t["name"]): str(t["id"]) for t in body.get("data") or [] if t.get("name") and t.get("id")}


def _untag(client: Client, contact_id: str, names: set[str]) -> None:
    """Take the mapping rules' tags that no longer apply off the contact: only those it carries."""
    if not names:
        return
    for name, tag_id in sorted(_contact_tags(client, contact_id).items()):
        if name in names:
            client.call("DELETE", f"/contacts/{contact_id}/tags/{tag_id}", accept=(404,))


def read(identity: Identity) -> Snapshot | None:
    """The contact by our external id, with the attributes Switchboard writes and its tags (two
    requests); None when absent."""
    client = _client()
    query = {"query": {"field": "external_id", "operator": "=", "value": identity.public_id}}
    _, body = client.call("POST", "/contacts/search", json_body=query)
    data = body.get("data") or []
    if not data:
        return None
    found = _snapshot(data[0])
    return replace(found, tags=frozenset(_contact_tags(client, found.external_id)))


OUR_IDS = "sw_"  # how our external ids begin; another integration may set external ids of its own


def _snapshot(contact: dict) -> Snapshot:
    attributes = contact.get("custom_attributes") or {}
    return Snapshot(external_id=str(pick(contact, "id", provider=NAME)), public_id=str(contact.get("external_id") or ""),
                    email=contact.get("email") or "",
                    values={"status": str(attributes.get("status") or ""), "plan": str(attributes.get("plan") or "")})


def listed(system: str, *, after: str = "") -> tuple[list[Snapshot], str]:
    """One page of the contacts whose external id begins as ours do, and the cursor of the next ("" at
    the end): a contact search, 150 a page, on Intercom's ``starting_after`` cursor."""
    query = {"query": {"field": "external_id", "operator": "^", "value": OUR_IDS},
             "pagination": {"per_page": 150, **({"starting_after": after} if after else {})}}
    _, body = _client().call("POST", "/contacts/search", json_body=query)
    following = ((body.get("pages") or {}).get("next") or {}).get("starting_after") or ""
    contacts = [c for c in body.get("data") or [] if str(c.get("external_id") or "").startswith(OUR_IDS)]
    return [_snapshot(c) for c in contacts], str(following)
