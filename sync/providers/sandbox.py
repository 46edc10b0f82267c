"""No credentials: record the request the configured tool would have received, and succeed.

A new install and the demo work end to end, and each job's attempt shows
(redacted) exactly what would have been sent.
"""

import hashlib

from customers.models import Customer
from sync.models import SyncJob
from sync.providers import SANDBOX, Result, configured_provider
from core.redact import redact
from sync.providers.http import record

NAME = SANDBOX
LABEL = "Sandbox"
CREDENTIALS = ()  # settings that must all be set
TICKET_ACTIONS = {"create_ticket"}
ID_PREFIX = "sandbox-"  # of every id this "tool" hands out


def credential() -> str:
    return ""


def cost(action: str) -> int:
    return 1


def preview(*, job: SyncJob, customer: Customer) -> dict:
    return {"note": "sandbox"}


def perform(*, job: SyncJob, customer: Customer) -> Result:
    target = configured_provider(job.system)
    would_send = target.preview(job=job, customer=customer) if target.NAME != NAME else {}
    record({"provider": NAME, "would_be": target.NAME, "sandbox": True, **redact(would_send, cut=True)})
    if job.action in TICKET_ACTIONS:
        return Result(external_id=ID_PREFIX + hashlib.sha256(job.idempotency_key.encode()).hexdigest()[:12])
    return Result(external_id=f"{ID_PREFIX}{customer.public_id}", link=True)
