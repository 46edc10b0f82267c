"""The CRM fakes of tests/sync, taught the notes endpoints (HubSpot note engagements, Intercom contact notes)."""

from tests.sync import fakes
from tests.sync.fakes import Reply


class HubSpotWithNotes(fakes.HubSpot):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.notes: list[dict] = []

    def routes(self):
        return {**super().routes(),
                ("POST", r"/crm/v3/objects/notes"): self.create_note,
                ("POST", r"/crm/v3/objects/notes/search"): self.search_notes}

    def create_note(self, request):
        data = request["json"]
        if not data["properties"].get("hs_timestamp"):
            raise Reply(400, {"status": "error", "message": "hs_timestamp is required", "category": "VALIDATION_ERROR"})
        note = {"id": str(next(self.ids)), "properties": data["properties"], "associations": data["associations"]}
        self.notes.append(note)
        return 201, note

    def search_notes(self, request):
        contact = request["json"]["filterGroups"][0]["filters"][0]["value"]
        found = [n for n in self.notes if any(a["to"]["id"] == contact for a in n["associations"])]
        return 200, {"total": len(found), "results": found}


class IntercomWithNotes(fakes.Intercom):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.notes: list[dict] = []

    def routes(self):
        return {**super().routes(),
                ("POST", r"/contacts/([0-9a-f]+)/notes"): self.create_note,
                ("GET", r"/contacts/([0-9a-f]+)/notes"): self.list_notes}

    def create_note(self, request, contact_id):
        if contact_id not in self.contacts:
            raise Reply(404, {"type": "error.list", "errors": [{"code": "not_found", "message": "Contact Not Found"}]})
        note = {"type": "note", "id": str(next(self.ids)), "created_at": 1764670000, "body": request["json"]["body"],
                "contact": {"type": "contact", "id": contact_id}}
        self.notes.append(note)
        return 200, note

    def list_notes(self, request, contact_id):
        data = [n for n in self.notes if n["contact"]["id"] == contact_id]
        return 200, {"type": "list", "data": data, "total_count": len(data)}
