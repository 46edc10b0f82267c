"""Sandbox's side of a job: record what the configured tool would have been sent, then succeed."""

import hashlib

from core.redact import redact
from sync.providers import configured_provider
from sync.providers.common import REMOVE_SPACES
from sync.providers.http import record
from sync.providers.payload import Payload, Result
from sync.providers.reading import Identity, Snapshot
from sync.providers.sandbox import state
from sync.providers.sandbox.conf import NAME

__all__ = ["ID_PREFIX", "cost", "credential", "listed", "perform", "preview", "read"]

TICKET_ACTIONS = {"create_ticket", "update_ticket"}
# Records of their own, not the customer's id in the system: nothing to link.
RECORD_ACTIONS = {*TICKET_ACTIONS, "add_note"}
ID_PREFIX = "sandbox-"  # of every id this "tool" hands out


def credential() -> str:
    return ""


def cost(action: str) -> int:
    return 1


def preview(payload: Payload) -> dict:
    return {"note": "sandbox"}


def perform(payload: Payload) -> Result:
    target = configured_provider(payload.system)
    would_send = target.preview(payload) if target.NAME != NAME else {}
    record({"provider": NAME, "would_be": target.NAME, "sandbox": True, **redact(would_send, cut=True)})
    _remember(payload)
    if payload.action in RECORD_ACTIONS:
        # An update names the ticket by the key it was created with, so the same made-up id comes back.
        key = payload.get("desk_ticket_key") or payload.idempotency_key
        return Result(external_id=ID_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:12])
    return Result(external_id=f"{ID_PREFIX}{payload.public_id}", link=True)


# What each action leaves in the sandbox tool, as the real tools would hold it.
_VALUES = ("status", "plan", "lifecycle_stage")


def _remember(payload: Payload) -> None:
    if payload.action == "revoke_access":
        state.delete(payload.system, payload.public_id)
        return
    if payload.action in RECORD_ACTIONS:
        return

    def edit(data: dict) -> dict:
        data.update(email=payload.email, name=payload.name)
        values = data.setdefault("values", {})
        if payload.action in ("upsert_contact", "upsert_user"):
            values.update({k: payload.get(k) or "" for k in _VALUES if payload.get(k) is not None})
        tags = set(data.get("tags") or [])
        if payload.action == "add_tag":
            tags.add(payload.get("tag"))
        elif payload.action == "remove_tag":
            tags.discard(payload.get("tag"))
        elif payload.action == "upsert_contact":  # a CRM that tags its contacts (Intercom) as the rules say
            tags = (tags | set(payload.get("tags") or ())) - set(payload.get("remove_tags") or ())
        data["tags"] = sorted(tags)
        if payload.action == "grant_access":
            data["spaces"] = sorted(set(data.get("spaces") or []) | set(payload.get("spaces") or []))
        elif payload.action == REMOVE_SPACES:
            data["spaces"] = sorted(set(data.get("spaces") or []) - set(payload.get("spaces") or []))
        return data

    state.change(payload.system, payload.public_id, edit)


def _snapshot(public_id: str, system: str, data: dict) -> Snapshot:
    return Snapshot(
        external_id=f"{ID_PREFIX}{public_id}", public_id=public_id, email=data.get("email") or "",
        values=dict(data.get("values") or {}), tags=frozenset(data.get("tags") or ()),
        spaces=frozenset(data.get("spaces") or ()) if system == "community" else None,
    )


def read(identity: Identity) -> Snapshot | None:
    data = state.get(identity.system, identity.public_id)
    return _snapshot(identity.public_id, identity.system, data) if data is not None else None


def listed(system: str, *, after: str = "") -> tuple[list[Snapshot], str]:
    """Every record the sandbox tool of ``system`` holds, as one page (no next page)."""
    return [_snapshot(public_id, system, data) for public_id, data in state.listed(system)], ""
