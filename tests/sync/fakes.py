"""Loopback HTTP servers that speak each provider's shapes, with a fault mode.

Each fake keeps what it was asked to do as state (contacts, tickets, tags...),
so a test can check that every job had exactly one effect. Faults are drawn
from a seeded random stream: 5xx, 429 (with Retry-After, or Kit's plain text),
timeouts and dropped connections (some after the effect was applied, the
uncertain case), and unreadable success bodies.
"""

import base64
import itertools
import json
import random
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

FAULTS = ("500", "503_retry_after", "429", "timeout_after", "drop_before", "drop_after", "garbage_after")
TIMEOUT_SLEEP = 0.8  # longer than the client's read timeout in tests


class Reply(Exception):
    def __init__(self, status: int, body=None, headers: dict | None = None, raw: bytes | None = None):
        self.status, self.body, self.headers, self.raw = status, body, headers or {}, raw


class Fake:
    """One provider. Subclasses define ``routes``: (method, regex) -> handler(request) -> (status, body)."""

    name = "fake"
    token_header = "Authorization"
    token_value = "Bearer test-token"

    def __init__(self, *, fault_rate: float = 0.0, seed: int = 7, faults=FAULTS) -> None:
        self.fault_rate, self.faults = fault_rate, faults
        self.random = random.Random(seed)
        self.lock = threading.RLock()
        self.ids = itertools.count(1001)
        self.calls: list[tuple[str, str, int | str]] = []
        self.force: tuple[int, dict] | None = None  # answer every request with this
        self.latency = 0.0  # seconds each request takes before it is answered (a tool far away)
        self.in_flight = self.most_in_flight = 0  # requests being answered now, and the most at once
        self.hold = threading.Event()  # set: the next write waits for ``release`` before answering
        self.holding = threading.Event()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "Fake":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def writes(self) -> int:
        return sum(1 for m, _, _ in self.calls if m != "GET")

    # --- dispatch ----------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall

            def log_message(self, *args):  # quiet
                pass

            def _any(self):
                fake.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        return Handler

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            self._handle(h)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        parsed = urlparse(h.path)
        request = {"method": h.command, "path": parsed.path, "query": parse_qs(parsed.query),
                   "headers": h.headers, "json": json.loads(raw) if raw else None}
        fault = self._draw_fault(h.command)
        if fault == "drop_before":
            return self._drop(h, request)
        try:
            if self.force:
                raise Reply(*self.force)
            if h.headers.get(self.token_header) != self.token_value:
                raise Reply(401, self.unauthorized())
            if fault in ("500", "503_retry_after", "429"):
                raise self.fault_reply(fault)
            status, body = self.route(request)
            if self.hold.is_set() and h.command != "GET":
                self.hold.clear()
                self.holding.set()
                self.release.wait(30)
        except Reply as reply:
            return self._send(h, request, reply.status, reply.body, reply.headers, reply.raw)
        if fault == "drop_after":
            return self._drop(h, request)
        if fault == "timeout_after":
            time.sleep(TIMEOUT_SLEEP)
        if fault == "garbage_after":
            return self._send(h, request, 200, None, {}, b"{not json")
        self._send(h, request, status, body, {}, None)

    def _draw_fault(self, method: str) -> str:
        with self.lock:
            if self.fault_rate and self.random.random() < self.fault_rate:
                return self.random.choice(self.faults)
        return ""

    def fault_reply(self, fault: str) -> Reply:
        if fault == "429":
            return Reply(429, {"message": "rate limited"}, {"Retry-After": "2"})
        if fault == "503_retry_after":
            return Reply(503, {"message": "down"}, {"Retry-After": "1"})
        return Reply(500, {"message": "internal error"})

    def unauthorized(self) -> dict:
        return {"message": "unauthorized"}

    def route(self, request: dict) -> tuple[int, dict]:
        for (method, pattern), handler in self.routes().items():
            match = re.fullmatch(pattern, request["path"])
            if match and method == request["method"]:
                with self.lock:
                    return handler(request, *match.groups())
        raise Reply(404, {"message": "no such route"})

    def routes(self) -> dict:
        return {}

    def _drop(self, h, request) -> None:
        self.calls.append((request["method"], request["path"], "dropped"))
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, h, request, status, body, headers, raw) -> None:
        self.calls.append((request["method"], request["path"], status))
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json" if raw is None else "text/plain")
            h.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout)


class HubSpot(Fake):
    name = "hubspot"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.contacts: dict[str, dict] = {}  # idProperty value -> contact
        self.refused: set[str] = set()  # idProperty values refused record by record (a 207), as an invalid value is

    def unauthorized(self):
        return {"status": "error", "message": "Authentication credentials not found.",
                "category": "INVALID_AUTHENTICATION", "correlationId": "c0ffee"}

    def routes(self):
        return {("POST", r"/crm/v3/objects/contacts/batch/upsert"): self.upsert}

    def upsert(self, request):
        results, errors = [], []
        for item in request["json"]["inputs"]:
            if not item.get("properties"):
                raise Reply(400, {"status": "error", "message": "No properties found to update, please provide "
                                  "at least one.", "category": "VALIDATION_ERROR", "correlationId": "c0ffee"})
            if item["id"] in self.refused:
                errors.append({"status": "error", "category": "VALIDATION_ERROR", "message": "Property values "
                               "were not valid", "context": {"ids": [item["id"]]}})
                continue
            new = item["id"] not in self.contacts
            contact = self.contacts.setdefault(item["id"], {"id": str(next(self.ids)), "properties": {}})
            contact["properties"].update(item["properties"])
            results.append({"id": contact["id"], "properties": contact["properties"], "new": new,
                            "createdAt": "2026-11-22T10:00:00Z", "updatedAt": "2026-11-22T10:00:00Z",
                            "archived": False})
        body = {"status": "COMPLETE", "results": results, "startedAt": "2026-11-22T10:00:00Z",
                "completedAt": "2026-11-22T10:00:00Z"}
        return (207, {**body, "errors": errors, "numErrors": len(errors)}) if errors else (200, body)


class Zendesk(Fake):
    name = "zendesk"
    token_value = "Basic " + base64.b64encode(b"agent@example.com/token:test-token").decode()

    def __init__(self, **kw):
        super().__init__(**kw)
        self.users: dict[str, dict] = {}
        self.tickets: list[dict] = []
        self.updates: list[dict] = []  # each PUT to a ticket, as received
        self.idempotent: dict[str, dict] = {}
        self.audits: dict[int, list[dict]] = {}  # ticket id -> the audits its updates made
        self.comments: dict[int, list[dict]] = {}  # ticket id -> comments added by updates
        self.groups = [{"id": 360001, "name": "Billing"}, {"id": 360002, "name": "Priority"},
                       {"id": 360003, "name": "Customers"}, {"id": 360004, "name": "Triage"},
                       {"id": 360005, "name": "General"}]
        self.refuse_updates: dict | None = None  # set: ticket updates answer 422 with this body
        self.lose_next_update = False  # set: the next ticket update is applied, then its answer is lost

    def unauthorized(self):
        return {"error": "Couldn't authenticate you"}

    def routes(self):
        return {
            ("POST", r"/api/v2/users/create_or_update"): self.user,
            ("POST", r"/api/v2/tickets"): self.create_ticket,
            ("GET", r"/api/v2/tickets"): self.find_tickets,
            ("PUT", r"/api/v2/tickets/(\d+)"): self.update_ticket,
            ("GET", r"/api/v2/tickets/(\d+)/audits"): self.ticket_audits,
            ("GET", r"/api/v2/groups"): self.list_groups,
        }

    def user(self, request):
        data = request["json"]["user"]
        if not data.get("email"):
            raise Reply(422, {"error": "RecordInvalid", "description": "Record validation errors",
                              "details": {"email": [{"description": "Email is invalid", "error": "InvalidValue"}]}})
        created = data["external_id"] not in self.users
        user = self.users.setdefault(data["external_id"], {"id": next(self.ids), "url": "https://x/api/v2/users/1.json"})
        user.update(data)
        return (201 if created else 200), {"user": user}

    def create_ticket(self, request):
        key = request["headers"].get("Idempotency-Key")
        if key and key in self.idempotent:
            raise Reply(201, self.idempotent[key], {"x-idempotency-lookup": "hit"})
        data = request["json"]["ticket"]
        ticket = {"id": next(self.ids), "url": "https://x/api/v2/tickets/1.json", "status": "new", **data}
        self.tickets.append(ticket)
        body = {"ticket": ticket, "audit": {"id": next(self.ids)}}
        if key:
            self.idempotent[key] = body
        return 201, body

    def _draw_fault(self, method: str) -> str:
        if method == "PUT" and self.lose_next_update:
            self.lose_next_update = False
            return "drop_after"
        return super()._draw_fault(method)

    def update_ticket(self, request, ticket_id):
        ticket = next((t for t in self.tickets if str(t["id"]) == ticket_id), None)
        if ticket is None:
            raise Reply(404, {"error": "RecordNotFound", "description": "Not found"})
        if self.refuse_updates is not None:
            raise Reply(422, self.refuse_updates)
        data = request["json"]["ticket"]
        self.updates.append({"id": ticket["id"], **data})
        if "requester_id" in data:
            ticket.pop("requester", None)
            ticket["requester_id"] = data["requester_id"]
        tags = [t for t in ticket.get("tags", []) if t not in data.get("remove_tags", [])]
        ticket["tags"] = tags + [t for t in data.get("additional_tags", []) if t not in tags]
        ticket.update({k: data[k] for k in ("status", "priority", "group_id") if k in data})
        if "comment" in data:
            self.comments.setdefault(ticket["id"], []).append(data["comment"])
        audit = {"id": next(self.ids), "ticket_id": ticket["id"], "metadata": {"custom": data.get("metadata") or {}}}
        self.audits.setdefault(ticket["id"], []).append(audit)
        return 200, {"ticket": ticket, "audit": audit}

    def ticket_audits(self, request, ticket_id):
        return 200, {"audits": self.audits.get(int(ticket_id), []), "count": len(self.audits.get(int(ticket_id), []))}

    def list_groups(self, request):
        return 200, {"groups": self.groups, "count": len(self.groups)}

    def find_tickets(self, request):
        wanted = request["query"].get("external_id", [""])[0]
        return 200, {"tickets": [t for t in self.tickets if t.get("external_id") == wanted], "count": 0}


class Intercom(Fake):
    name = "intercom"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.contacts: dict[str, dict] = {}  # contact id -> contact
        self.tags: dict[str, str] = {}  # name -> id
        self.tickets: list[dict] = []
        self.ticket_tags: dict[str, list[str]] = {}  # ticket id -> tag ids
        self.searches: list[dict] = []  # each ticket search's query

    def unauthorized(self):
        return {"type": "error.list", "request_id": "r1",
                "errors": [{"code": "unauthorized", "message": "Access Token Invalid"}]}

    def routes(self):
        return {
            ("POST", r"/contacts/search"): self.search,
            ("POST", r"/contacts"): self.create,
            ("PUT", r"/contacts/([0-9a-f]+)"): self.update,
            ("GET", r"/contacts/([0-9a-f]+)"): lambda request, contact_id: self.update({"json": {}}, contact_id),
            ("POST", r"/tags"): self.tag,
            ("POST", r"/contacts/([0-9a-f]+)/tags"): self.tag_contact,
            ("GET", r"/contacts/([0-9a-f]+)/tags"): self.contact_tags,
            ("DELETE", r"/contacts/([0-9a-f]+)/tags/(\d+)"): self.untag_contact,
            ("POST", r"/tickets/search"): self.search_tickets,
            ("POST", r"/tickets/(\d+)/tags"): self.tag_ticket,
            ("POST", r"/tickets"): self.ticket,
            ("PUT", r"/tickets/(\d+)"): self.update_ticket,
            ("POST", r"/tickets/(\d+)/reply"): self.reply,
        }

    def _by_external(self, external_id):
        return next((c for c in self.contacts.values() if c["external_id"] == external_id), None)

    def search(self, request):
        found = self._by_external(request["json"]["query"]["value"])
        return 200, {"type": "list", "data": [found] if found else [], "total_count": int(bool(found)),
                     "pages": {"type": "pages", "page": 1, "per_page": 50, "total_pages": int(bool(found))}}

    def create(self, request):
        data = request["json"]
        existing = self._by_external(data.get("external_id")) or next(  # email is unique per role too
            (c for c in self.contacts.values() if data.get("email") and c.get("email") == data["email"]), None)
        if existing:
            raise Reply(409, {"type": "error.list", "request_id": "r2", "errors": [
                {"code": "conflict", "message": f"A contact matching those details already exists with id={existing['id']}"}]})
        contact = {"type": "contact", "id": f"{next(self.ids):024x}", "tags": [], **data}
        self.contacts[contact["id"]] = contact
        return 200, contact

    def update(self, request, contact_id):
        if contact_id not in self.contacts:
            raise Reply(404, {"type": "error.list", "errors": [{"code": "not_found", "message": "User Not Found"}]})
        self.contacts[contact_id].update(request["json"])
        return 200, self.contacts[contact_id]

    def tag(self, request):
        name = request["json"]["name"]
        tag_id = self.tags.setdefault(name, str(next(self.ids)))
        return 200, {"type": "tag", "id": tag_id, "name": name}

    def tag_contact(self, request, contact_id):
        tag_id = request["json"]["id"]
        tags = self.contacts[contact_id]["tags"]
        if tag_id not in tags:
            tags.append(tag_id)
        return 200, {"type": "tag", "id": tag_id, "name": "t", "applied_at": 1663597223}

    def contact_tags(self, request, contact_id):
        names = {v: k for k, v in self.tags.items()}
        return 200, {"type": "list", "data": [{"type": "tag", "id": t, "name": names.get(t, "t")}
                                              for t in self.contacts[contact_id]["tags"]]}

    def untag_contact(self, request, contact_id, tag_id):
        tags = self.contacts[contact_id]["tags"]
        if tag_id not in tags:
            raise Reply(404, {"type": "error.list", "errors": [{"code": "tag_not_found", "message": "Tag not found"}]})
        tags.remove(tag_id)
        return 200, {"type": "tag", "id": tag_id, "name": {v: k for k, v in self.tags.items()}.get(tag_id, "t")}

    def ticket(self, request):
        ticket = {"type": "ticket", "id": str(next(self.ids)), "ticket_id": str(len(self.tickets) + 1), **request["json"]}
        self.tickets.append(ticket)
        return 200, ticket

    def search_tickets(self, request):
        """The ticket search for the shape Switchboard sends: ticket type AND description "~" (contains)."""
        self.searches.append(request["json"]["query"])
        asked = {f["field"]: f["value"] for f in request["json"]["query"]["value"]}
        found = [t for t in self.tickets if t["ticket_type_id"] == asked["ticket_type_id"]
                 and asked["description"] in t["ticket_attributes"]["_default_description_"]]
        return 200, {"type": "ticket.list", "tickets": found, "total_count": len(found)}

    def tag_ticket(self, request, ticket_id):  # needs the teammate who tags; tagging twice changes nothing
        tags = self.ticket_tags.setdefault(self._ticket(ticket_id)["id"], [])
        tag_id = request["json"]["id"] if request["json"].get("admin_id") else None
        tags.extend([tag_id] if tag_id and tag_id not in tags else [])
        return 200, {"type": "tag", "id": request["json"]["id"], "name": "t"}

    def _ticket(self, ticket_id):
        found = next((t for t in self.tickets if t["id"] == ticket_id), None)
        if found is None:
            raise Reply(404, {"type": "error.list", "errors": [{"code": "ticket_not_found", "message": "Ticket not found"}]})
        return found

    def update_ticket(self, request, ticket_id):
        ticket = self._ticket(ticket_id)
        if "state" in request["json"]:
            ticket["ticket_state"] = request["json"]["state"]
        return 200, ticket

    def reply(self, request, ticket_id):
        part = {"type": "ticket_part", "id": str(next(self.ids)), "part_type": request["json"]["message_type"],
                "body": request["json"]["body"]}
        self._ticket(ticket_id).setdefault("parts", []).append(part)
        return 200, part


class Circle(Fake):
    name = "circle"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.members: dict[str, dict] = {}  # email -> member
        self.spaces: set[tuple[str, int]] = set()

    def unauthorized(self):
        return {"status": "unauthorized", "message": "Your account could not be authenticated."}

    def routes(self):
        return {
            ("GET", r"/community_members/search"): self.search,
            ("POST", r"/community_members"): self.create,
            ("DELETE", r"/community_members/(\d+)"): self.remove,
            ("POST", r"/space_members"): self.space,
            ("DELETE", r"/space_members"): self.unspace,
        }

    def search(self, request):
        member = self.members.get(request["query"].get("email", [""])[0])
        if not member:
            raise Reply(404, {"message": "Member not found"})
        return 200, member

    def create(self, request):
        data = request["json"]
        if data["email"] in self.members:
            raise Reply(422, {"message": "This user is already a member of the community."})
        member = {"id": next(self.ids), "email": data["email"], "name": data.get("name"), "member_tags": []}
        self.members[data["email"]] = member
        self.spaces |= {(data["email"], s) for s in data.get("space_ids") or []}
        return 201, {"message": "This user has been added to the community.", "community_member": member}

    def remove(self, request, member_id):
        email = next((e for e, m in self.members.items() if str(m["id"]) == member_id), None)
        if email is None:
            raise Reply(404, {"message": "Member not found"})
        del self.members[email]
        self.spaces = {s for s in self.spaces if s[0] != email}
        return 200, {"message": "This user has been removed from the community."}

    def space(self, request):
        key = (request["json"]["email"], request["json"]["space_id"])
        if key in self.spaces:
            raise Reply(422, {"message": "This member is already in the space."})
        self.spaces.add(key)
        return 200, {"message": "Member added to space."}

    def unspace(self, request):
        key = (request["query"].get("email", [""])[0], int(request["query"].get("space_id", ["0"])[0]))
        if key not in self.spaces:
            raise Reply(404, {"message": "This member is not in the space."})
        self.spaces.discard(key)
        return 200, {"message": "Member removed from space."}


class Kit(Fake):
    name = "kit"
    token_header = "X-Kit-Api-Key"
    token_value = "test-token"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.subscribers: dict[str, dict] = {}  # email -> subscriber
        self.tags: dict[str, int] = {}  # name -> id
        self.tagged: set[tuple[int, int]] = set()  # (tag id, subscriber id)

    def unauthorized(self):
        return {"errors": ["The access token is invalid"]}

    def fault_reply(self, fault):
        if fault == "429":  # Kit: plain text, no Retry-After
            return Reply(429, raw=b"Retry later")
        return super().fault_reply(fault)

    def routes(self):
        return {
            ("POST", r"/v4/subscribers"): self.upsert,
            ("POST", r"/v4/tags"): self.tag,
            ("POST", r"/v4/tags/(\d+)/subscribers/(\d+)"): self.tag_subscriber,
            ("DELETE", r"/v4/tags/(\d+)/subscribers"): self.untag,
        }

    def upsert(self, request):
        data = request["json"]
        created = data["email_address"] not in self.subscribers
        sub = self.subscribers.setdefault(data["email_address"], {"id": next(self.ids), "state": "active",
                                                                  "created_at": "2026-11-22T10:00:00Z", "fields": {}})
        sub.update({"email_address": data["email_address"], "first_name": data.get("first_name")})
        return (201 if created else 200), {"subscriber": sub}

    def tag(self, request):
        name = request["json"]["name"]
        created = name not in self.tags
        tag_id = self.tags.setdefault(name, next(self.ids))
        return (201 if created else 200), {"tag": {"id": tag_id, "name": name, "created_at": "2026-11-22T10:00:00Z"}}

    def tag_subscriber(self, request, tag_id, sub_id):
        key = (int(tag_id), int(sub_id))
        created = key not in self.tagged
        self.tagged.add(key)
        return (201 if created else 200), {"subscriber": {"id": int(sub_id), "tagged_at": "2026-11-22T10:00:00Z"}}

    def untag(self, request, tag_id):
        sub = self.subscribers.get(request["json"]["email_address"])
        key = (int(tag_id), sub["id"]) if sub else None
        if key not in self.tagged:
            raise Reply(404, {"errors": ["Not Found"]})
        self.tagged.discard(key)
        return 204, None

    def tags_of(self, email: str) -> set[str]:
        sub = self.subscribers.get(email)
        names = {v: k for k, v in self.tags.items()}
        return {names[t] for t, s in self.tagged if sub and s == sub["id"]}
