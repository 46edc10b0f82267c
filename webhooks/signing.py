"""Signing deliveries by the Standard Webhooks specification, with the ``standardwebhooks`` package.

A delivery's ``webhook-id`` is the fact's id, so every retry of it carries the same one; the receiver
deduplicates on it. While a rotated secret overlaps, the ``webhook-signature`` header carries one
signature per secret, space-separated, and a verifier holding either secret accepts the delivery.
"""

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret in the form every Standard Webhooks verifier reads."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


@dataclass(frozen=True)
class Keys:
    """An endpoint's signing secrets: the current one, and the one it replaced until its overlap ends."""

    current: str
    previous: str = ""
    previous_until: datetime | None = None

    def signing(self, now: datetime) -> list[str]:
        """The secrets that sign at ``now``: the current one first, the previous one while it overlaps."""
        overlapping = self.previous and self.previous_until is not None and now < self.previous_until
        return [self.current, self.previous] if overlapping else [self.current]

    def rotated(self, now: datetime, overlap: timedelta, fresh: str | None = None) -> "Keys":
        """The keys after a rotation at ``now``: a new current secret, the old one signing for ``overlap``."""
        return Keys(current=fresh or new_secret(), previous=self.current, previous_until=now + overlap)


def headers(message_id: str, body: str, keys: Keys, now: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt to deliver ``body``."""
    at = now.astimezone(timezone.utc)
    signatures = [Webhook(secret).sign(message_id, at, body) for secret in keys.signing(now)]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
