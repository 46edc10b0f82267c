"""What django-structlog's request lines (and every line logged during a request) carry about the
client: a keyed hash of its address, never the address, and the path without its query string
(search terms can be emails). DJANGO_STRUCTLOG_IP_LOGGING_ENABLED is off, so the address is never bound."""

import structlog
from django.dispatch import receiver
from django.http import HttpRequest
from django_structlog import signals

from core.client_ip import client_ip
from core.logs import log_hash


def _request_line(request: HttpRequest) -> str:
    return f"{request.method} {request.path}"


@receiver(signals.bind_extra_request_metadata)
def bind_client_hash(request: HttpRequest, log_kwargs: dict, **kwargs) -> None:
    # By the rule the lockouts and rate limits use, so one client has one hash behind a proxy too.
    structlog.contextvars.bind_contextvars(client_hash=log_hash(client_ip(request)))
    log_kwargs["request"] = _request_line(request)


@receiver(signals.bind_extra_request_finished_metadata)
@receiver(signals.bind_extra_request_failed_metadata)
def drop_query_string(request: HttpRequest, log_kwargs: dict, **kwargs) -> None:
    log_kwargs["request"] = _request_line(request)
