"""What log lines carry: the correlation id that follows one piece of work from the web request
to the worker, and short hashes that stand in for personal values."""

import hashlib
import hmac
import uuid

import structlog


def current_correlation_id() -> str:
    bound = structlog.contextvars.get_contextvars()
    return str(bound.get("correlation_id") or bound.get("request_id") or "")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def bind_correlation_id(value: str | None = None) -> str:
    value = value or current_correlation_id() or new_correlation_id()
    structlog.contextvars.bind_contextvars(correlation_id=value)
    return value


def start_correlation() -> str:
    """Begin a new piece of work (a request at the door): this request's id, never one left from earlier work."""
    value = str(structlog.contextvars.get_contextvars().get("request_id") or new_correlation_id())
    structlog.contextvars.bind_contextvars(correlation_id=value)
    return value


def log_hash(value: str) -> str:
    """A short stable stand-in for a personal value (an email, a customer id, a client address) in a
    log line. Keyed with SECRET_KEY: without it, hashing every IPv4 address (or a list of emails)
    would find the value again in minutes; with it, ``log_hash`` in a shell still finds the lines."""
    from django.conf import settings

    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:10]
