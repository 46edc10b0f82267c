"""How a call to an outside tool failed: the reason codes jobs keep, and the one error adapters raise."""

from django.db import models


class ReasonCode(models.TextChoices):
    AUTH_FAILED = "auth_failed", "Credentials rejected"
    VALIDATION = "validation", "Rejected as invalid"
    NOT_FOUND = "not_found", "Not found"
    CONFLICT = "conflict", "Conflict"
    RATE_LIMITED = "rate_limited", "Rate limited"
    UNAVAILABLE = "unavailable", "Service unavailable"
    TIMEOUT = "timeout", "Timed out"
    BAD_RESPONSE = "bad_response", "Unreadable answer"
    RETRIES_EXHAUSTED = "retries_exhausted", "Retries exhausted"
    UNKNOWN = "unknown", "Unknown error"


class ProviderError(Exception):
    """A provider call that failed; ``permanent`` says retrying cannot help."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        reason_code: str = ReasonCode.UNKNOWN,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.reason_code = reason_code
        self.status_code = status_code
        self.retry_after = retry_after
