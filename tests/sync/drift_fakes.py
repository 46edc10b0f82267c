"""The loopback fakes of tests/sync/fakes.py, able to be read back as Switchboard's drift pass reads
them, and timing each request so a test can count requests per window."""

import base64
import time

from tests.sync import fakes
from tests.sync.fakes import Reply


class Timed:
    """Remembers when each request arrived (monotonic seconds)."""

    def _send(self, h, request, status, body, headers, raw):
        self.times.append((time.monotonic(), request["method"], request["path"]))
        return super()._send(h, request, status, body, headers, raw)

    def reads(self) -> int:
        return sum(1 for _, method, path in self.times if method == "GET" or path.endswith("/search"))

    def most_in_any_window(self, seconds: float) -> int:
        stamps = sorted(t for t, _, _ in self.times)
        return max((sum(1 for u in stamps if t <= u < t + seconds) for t in stamps), default=0)


class HubSpot(Timed, fakes.HubSpot):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.times = []

    def routes(self):
        return {**super().routes(),
                ("GET", r"/crm/v3/objects/contacts/([^/]+)"): self.get,
                ("POST", r"/crm/v3/objects/contacts/search"): self.search}

    def get(self, request, key):
        contact = self.contacts.get(key)
        if contact is None:
            raise Reply(404, {"status": "error", "message": "Object not found", "category": "OBJECT_NOT_FOUND"})
        return 200, contact

    page_size = 2  # small pages, so the paging is exercised

    def search(self, request):
        found = [c for c in self.contacts.values() if c["properties"].get("switchboard_id")]
        start = int(request["json"].get("after") or 0)
        size = min(int(request["json"].get("limit") or 100), self.page_size)
        page = found[start:start + size]
        paging = {"next": {"after": str(start + size)}} if start + size < len(found) else {}
        return 200, {"total": len(found), "results": page, "paging": paging}


class Kit(Timed, fakes.Kit):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.times = []

    def routes(self):
        return {**super().routes(),
                ("GET", r"/v4/subscribers"): self.find,
                ("GET", r"/v4/subscribers/(\d+)/tags"): self.tags_list}

    def find(self, request):
        sub = self.subscribers.get(request["query"].get("email_address", [""])[0])
        return 200, {"subscribers": [sub] if sub else [], "pagination": {}}

    def tags_list(self, request, sub_id):
        names = {v: k for k, v in self.tags.items()}
        return 200, {"tags": [{"id": t, "name": names[t]} for t, s in sorted(self.tagged) if s == int(sub_id)]}


class Circle(Timed, fakes.Circle):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.times = []

    def search(self, request):
        status, member = super().search(request)
        spaces = sorted(s for e, s in self.spaces if e == member["email"])
        return status, {**member, "space_ids": spaces}


class Zendesk(Timed, fakes.Zendesk):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.times = []
        self.asked_after: list[str] = []  # each listing request's page[after], as asked

    def routes(self):
        return {**super().routes(), ("GET", r"/api/v2/users/search"): self.find, ("GET", r"/api/v2/users"): self.listing}

    def find(self, request):
        wanted = request["query"].get("external_id", [""])[0]
        user = self.users.get(wanted)
        return 200, {"users": [user] if user else [], "count": int(bool(user))}

    page_size = 2  # small pages, so the cursor is followed

    def listing(self, request):
        """The users of a role, a page at a time by an opaque cursor (``meta.after_cursor``)."""
        query = {k: v[0] for k, v in request["query"].items()}
        self.asked_after.append(query.get("page[after]", ""))
        role = query.get("role")
        users = [u for u in self.users.values() if not role or u.get("role", "end-user") == role]
        start = int(base64.b64decode(query["page[after]"])) if query.get("page[after]") else 0
        end = start + min(int(query.get("page[size]", 100)), self.page_size)
        more = end < len(users)
        return 200, {"users": users[start:end], "meta": {"has_more": more, "after_cursor":
                     base64.b64encode(str(end).encode()).decode() if more else None, "before_cursor": None}}


class Intercom(Timed, fakes.Intercom):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.times = []
        self.asked_after: list[str] = []  # each listing search's starting_after, as asked

    page_size = 2  # small pages, so the cursor is followed

    def search(self, request):
        """A search by an external id's beginning (``^``) is the listing: a page at a time by an
        opaque cursor (``pages.next.starting_after``); any other search is the plain fake's."""
        query = request["json"]["query"]
        if query.get("operator") != "^":
            return super().search(request)
        paging = request["json"].get("pagination") or {}
        self.asked_after.append(paging.get("starting_after", ""))
        found = [c for c in self.contacts.values() if str(c.get("external_id") or "").startswith(query["value"])]
        start = int(base64.b64decode(paging["starting_after"])) if paging.get("starting_after") else 0
        size = min(int(paging.get("per_page", 50)), self.page_size)
        pages = {"type": "pages", "page": start // size + 1, "per_page": size,
                 "total_pages": -(-len(found) // size)}
        if start + size < len(found):
            pages["next"] = {"page": pages["page"] + 1,
                             "starting_after": base64.b64encode(str(start + size).encode()).decode()}
        return 200, {"type": "list", "data": found[start:start + size], "total_count": len(found), "pages": pages}
