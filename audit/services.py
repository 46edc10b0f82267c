from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from audit.context import current_correlation_id
from audit.models import AuditEvent

# Any constant: the key of the advisory lock that serialises appends to the chain.
_CHAIN_LOCK_KEY = 7_401_002


def _lock_chain() -> None:
    # PostgreSQL: two appenders must not both read the same "last hash".
    # SQLite runs writers one at a time (BEGIN IMMEDIATE), so needs nothing.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def audit_record(
    *,
    action: str,
    source: str,
    actor=None,
    customer=None,
    target: models.Model | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    correlation_id: str = "",
) -> AuditEvent:
    """Append one business action to the audit chain (inside the caller's transaction)."""
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        entry = AuditEvent(
            created_at=timezone.now(),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_label=(actor.email if actor is not None and actor.is_authenticated else ""),
            action=action,
            source=source,
            correlation_id=correlation_id or current_correlation_id(),
            customer=customer,
            object_type=target._meta.label if target is not None else "",
            object_id=str(target.pk) if target is not None else "",
            summary=summary[:300],
            changes=changes or {},
            prev_hash=last or "",
        )
        entry.hash = entry.compute_hash()
        entry.save(force_insert=True)
        return entry


def audit_verify() -> tuple[int, list[int]]:
    """Walk the chain; return how many entries were checked and the ids that do not fit."""
    broken: list[int] = []
    prev = ""
    checked = 0
    for entry in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        checked += 1
        if entry.prev_hash != prev or entry.compute_hash() != entry.hash:
            broken.append(entry.id)
        prev = entry.hash
    return checked, broken
