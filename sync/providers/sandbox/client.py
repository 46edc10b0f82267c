"""Sandbox's side of a job: record what the configured tool would have been sent, then succeed."""

import hashlib

from core.redact import redact
from sync.providers import configured_provider
from sync.providers.http import record
from sync.providers.payload import Payload, Result
from sync.providers.sandbox.conf import NAME

__all__ = ["ID_PREFIX", "cost", "credential", "perform", "preview"]

TICKET_ACTIONS = {"create_ticket"}
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
    if payload.action in TICKET_ACTIONS:
        return Result(external_id=ID_PREFIX + hashlib.sha256(payload.idempotency_key.encode()).hexdigest()[:12])
    return Result(external_id=f"{ID_PREFIX}{payload.public_id}", link=True)
