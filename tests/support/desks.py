"""The two desks support runs against, loopback fakes with one neutral face, so a support test asserts
the same facts whichever desk an install chose.

Each desk answers, in our words:

- ``made``: the tickets it holds, each a ``Made`` (its id, our key, subject, body, tag names, priority,
  requester, status in our names);
- ``contact(public_id)``: the person it keeps for our customer (its ``id`` and ``email``), or None;
- ``replies(desk_id)``: what was written on a ticket after creation, each ``{"body", "public"}``;
- ``lose_next_ticket`` / ``lose_next_change``: the next creation or change is applied, and its answer lost;
- ``refuse_changes(reason)``: ticket changes are refused with the desk's own words;
- ``status_request(desk_id, status, ...)``: its signed webhook saying a ticket's status changed (path,
  body, headers), and ``post_status(client, ...)`` delivering it;
- ``holds(made, customer)``: whether the ticket is the customer's there (their id, or their email where
  the desk matches by email);
- ``configure(settings)`` / ``disconnect(settings)``: the install chooses this desk / its credentials are
  gone (support runs against the sandbox); ``kind`` and ``label`` name it.

Both keep the fakes' own switches too (``force``, faults, ``calls``, ``writes()``).
"""

import json
import time
from dataclasses import dataclass, field

from sync.providers.intercom.webhook import hub_signature
from tests.support.conftest import desk_sign, status_event
from tests.sync import fakes

INTERCOM_CLIENT_SECRET = "intercom-client-secret-for-tests"
MARKER = "\n\n— Switchboard ticket "


@dataclass
class Made:
    id: str
    key: str
    subject: str
    body: str
    tags: set
    priority: str
    status: str
    requester: dict = field(default_factory=dict)  # "email", "name", "public_id": whichever the desk knows


class _Face:
    def post_status(self, client, desk_id: str, status: str, **kw):
        """Deliver the desk's signed status-change webhook to Switchboard through ``client``."""
        path, body, headers = self.status_request(desk_id, status, **kw)
        return client.post(path, data=body, content_type="application/json", headers=headers)


class ZendeskDesk(_Face, fakes.Zendesk):
    kind, label = "zendesk", "Zendesk"
    STATUSES = {"new": "new", "open": "open", "pending": "waiting", "hold": "hold", "solved": "solved",
                "closed": "closed"}

    def __init__(self, **kw):
        super().__init__(**kw)
        self.lose_next_ticket = False

    def configure(self, settings) -> None:
        settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "support": "zendesk"}
        settings.ZENDESK_EMAIL, settings.ZENDESK_API_TOKEN, settings.ZENDESK_BASE_URL = (
            "agent@example.com", "test-token", self.url)

    def disconnect(self, settings) -> None:
        settings.ZENDESK_API_TOKEN = ""

    @property
    def lose_next_change(self) -> bool:
        return self.lose_next_update

    @lose_next_change.setter
    def lose_next_change(self, value: bool) -> None:
        self.lose_next_update = value

    def _draw_fault(self, method: str) -> str:
        if method == "POST" and self.lose_next_ticket:
            self.lose_next_ticket = False
            return "drop_after"
        return super()._draw_fault(method)

    def _requester(self, ticket: dict) -> dict:
        if "requester_id" in ticket:
            user = next(u for u in self.users.values() if u["id"] == ticket["requester_id"])
            return {"email": user.get("email", ""), "name": user.get("name", ""),
                    "public_id": user.get("external_id", "")}
        return {"email": ticket["requester"]["email"], "name": ticket["requester"].get("name", ""), "public_id": ""}

    @property
    def made(self) -> list[Made]:
        return [Made(id=str(t["id"]), key=t["external_id"], subject=t["subject"], body=t["comment"]["body"],
                     tags=set(t.get("tags") or []), priority=t.get("priority") or "normal",
                     status=self.STATUSES[t["status"]], requester=self._requester(t)) for t in self.tickets]

    def contact(self, public_id: str) -> dict | None:
        return self.users.get(public_id)

    def replies(self, desk_id: str) -> list[dict]:
        return [{"body": c["body"], "public": bool(c.get("public", True))}
                for c in self.comments.get(int(desk_id), [])]

    def refuse_changes(self, reason: str) -> None:
        self.refuse_updates = {"error": "RecordInvalid", "description": "Record validation errors",
                               "details": {"status": [{"description": reason}]}}

    def status_request(self, desk_id: str, status: str, *, delivery: str = "01HTEST0001", key: str = "",
                       at: int = 1_795_000_000) -> tuple[str, bytes, dict]:
        """Its signed webhook saying ``desk_id``'s status changed: (path, body, headers)."""
        state = {v: k for k, v in self.STATUSES.items() if k != "new"}[status]
        body = status_event(desk_id, state, external_id=key, event_id=delivery,
                            time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at)))
        return "/webhooks/support/", body, desk_sign(body)

    def holds(self, made: Made, customer) -> bool:  # Zendesk matches a requester by email, a user by our id
        return made.requester["public_id"] == customer.public_id or (
            not made.requester["public_id"] and made.requester["email"] == customer.email)


class IntercomDesk(_Face, fakes.Intercom):
    """Intercom as the desk, with switches that apply the next ticket creation or change but answer too
    late (the uncertain case: made at Intercom, unknown to Switchboard)."""

    kind, label = "intercom", "Intercom"
    STATUSES = {"submitted": "new", "in_progress": "open", "waiting_on_customer": "waiting", "resolved": "solved"}

    def __init__(self, **kw):
        super().__init__(**kw)
        self.lose_next_ticket = False  # set: the next POST /tickets is applied, then answers too late
        self.lose_next_change = False  # set: the next ticket update or reply is applied, then answers too late
        self.refused: str = ""

    def configure(self, settings) -> None:
        settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "support": "intercom"}
        settings.INTERCOM_ACCESS_TOKEN, settings.INTERCOM_BASE_URL = "test-token", self.url
        settings.INTERCOM_TICKET_TYPE_ID, settings.INTERCOM_ADMIN_ID = "88", "3156780"
        settings.INTERCOM_CLIENT_SECRET = INTERCOM_CLIENT_SECRET

    def disconnect(self, settings) -> None:
        settings.INTERCOM_ACCESS_TOKEN = ""

    def create(self, request):
        request["json"].setdefault("external_id", None)  # a lead has none
        return super().create(request)

    def routes(self):
        return {**super().routes(), ("DELETE", r"/tickets/(\d+)/tags/(\d+)"): self.untag_ticket,
                ("GET", r"/tickets/(\d+)"): self.read_ticket}

    def read_ticket(self, request, ticket_id):
        """The ticket as Intercom shows it: its contacts as references (their ids, and ours when they have it)."""
        ticket = self._ticket(ticket_id)
        refs = []
        for named in ticket["contacts"]:
            contact = (self.contacts.get(named["id"]) if "id" in named
                       else self._by_external(named["external_id"]) if "external_id" in named
                       else next((c for c in self.contacts.values() if c.get("email") == named.get("email")), None))
            refs.append({"type": "contact", "id": (contact or {}).get("id", ""),
                         "external_id": (contact or named).get("external_id")})
        parts = [{"type": "ticket_part", "id": p["id"], "part_type": p["part_type"], "body": f"<p>{p['body']}</p>",
                  "author": p["author"], "created_at": p["created_at"]} for p in ticket.get("parts", [])]
        return 200, {**ticket, "contacts": {"type": "contact.list", "contacts": refs},
                     "ticket_parts": {"type": "ticket_part.list", "ticket_parts": parts}}

    def untag_ticket(self, request, ticket_id, tag_id):  # needs the teammate, as tagging does
        tags = self.ticket_tags.setdefault(self._ticket(ticket_id)["id"], [])
        if (request["json"] or {}).get("admin_id") and tag_id in tags:
            tags.remove(tag_id)
        return 200, {"type": "tag", "id": tag_id, "name": "t"}

    def ticket(self, request):
        status, body = super().ticket(request)
        body.setdefault("ticket_state", "submitted")
        if self.lose_next_ticket:
            self.lose_next_ticket = False
            time.sleep(fakes.TIMEOUT_SLEEP)  # made, but the client has given up waiting
        return status, body

    def _changed(self, answer):
        if self.lose_next_change:
            self.lose_next_change = False
            time.sleep(fakes.TIMEOUT_SLEEP)
        return answer

    def _refusing(self):
        if self.refused:
            raise fakes.Reply(400, {"type": "error.list", "request_id": "r9",
                                    "errors": [{"code": "parameter_invalid", "message": self.refused}]})

    def update_ticket(self, request, ticket_id):
        self._refusing()
        return self._changed(super().update_ticket(request, ticket_id))

    def reply(self, request, ticket_id):
        self._refusing()
        status, part = super().reply(request, ticket_id)
        part.update(author={"type": "admin", "id": request["json"].get("admin_id")}, created_at=int(time.time()))
        return self._changed((status, part))

    def refuse_changes(self, reason: str) -> None:
        self.refused = reason

    def _requester(self, ticket: dict) -> dict:
        [named] = ticket["contacts"]
        if "id" in named:
            contact = self.contacts[named["id"]]
            return {"email": contact.get("email") or "", "name": contact.get("name") or "",
                    "public_id": contact.get("external_id") or ""}
        if "external_id" in named:
            contact = self.contact(named["external_id"]) or {}
            return {"email": contact.get("email") or "", "name": contact.get("name") or "",
                    "public_id": named["external_id"]}
        return {"email": named.get("email", ""), "name": "", "public_id": ""}

    @property
    def made(self) -> list[Made]:
        names = {tag_id: name for name, tag_id in self.tags.items()}
        made = []
        for t in self.tickets:
            attributes = t["ticket_attributes"]
            body, _, key = attributes["_default_description_"].rpartition(MARKER)
            tags = {names[tag_id] for tag_id in self.ticket_tags.get(t["id"], [])}
            raised = [tag.removeprefix("priority-") for tag in tags if tag.startswith("priority-")]
            made.append(Made(id=t["id"], key=key, subject=attributes["_default_title_"], body=body, tags=tags,
                             priority=raised[0] if raised else "normal",
                             status=self.STATUSES[t.get("ticket_state") or "submitted"],
                             requester=self._requester(t)))
        return made

    def contact(self, public_id: str) -> dict | None:
        return self._by_external(public_id)

    def replies(self, desk_id: str) -> list[dict]:
        ticket = next(t for t in self.tickets if t["id"] == desk_id)
        return [{"body": p["body"], "public": p["part_type"] == "comment"} for p in ticket.get("parts", [])]

    def status_request(self, desk_id: str, status: str, *, delivery: str = "notif_1", key: str = "",
                       at: int = 1_795_000_000) -> tuple[str, bytes, dict]:
        """Its signed ticket.state.updated notification for ``desk_id``: (path, body, headers)."""
        state = {v: k for k, v in self.STATUSES.items()}[status]
        description = f"Paid, cannot get in.{MARKER}{key}" if key else "Paid, cannot get in."
        body = json.dumps({
            "type": "notification_event", "app_id": "abc123", "id": delivery, "topic": "ticket.state.updated",
            "delivery_status": "pending", "delivery_attempts": 1, "created_at": at,
            "data": {"type": "notification_event_data", "item": {
                "type": "ticket", "id": desk_id, "ticket_id": "7", "ticket_state": state, "updated_at": at,
                "ticket_attributes": {"_default_title_": "Locked out", "_default_description_": description}}},
        }).encode()
        return "/webhooks/support/intercom/", body, {"X-Hub-Signature": hub_signature(body, INTERCOM_CLIENT_SECRET)}

    def holds(self, made: Made, customer) -> bool:  # Intercom: by our id only, never by an email alone
        return made.requester["public_id"] == customer.public_id


DESKS = {"zendesk": ZendeskDesk, "intercom": IntercomDesk}
