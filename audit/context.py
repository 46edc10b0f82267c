"""What log lines carry: the correlation id that follows one piece of work from the web request
to the worker (the hashes that stand in for personal values are ``core.logs.log_hash``)."""

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
