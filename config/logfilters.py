"""Logging filters named in settings.LOGGING (nothing here imports Django: logging is configured first)."""

import logging

PROBE_PATHS = ("/readyz", "/healthz", "/healthz/deep")


def _probe_answer(record: logging.LogRecord) -> tuple[str, object]:
    """The path and status of the request a record is about ("" when it is about none)."""
    request = getattr(record, "request", None)  # django.request's records carry the request
    if request is not None and hasattr(request, "path"):
        return request.path, getattr(record, "status_code", None)
    event = record.msg if isinstance(record.msg, dict) else {}  # django-structlog's event dict
    line = str(event.get("request", ""))
    path = line.split(" ", 1)[1].split("?", 1)[0] if " " in line else ""
    return path, event.get("code")


class ProbeAnswers(logging.Filter):
    """A probe answering 503 is the probe doing its job (a load balancer or uptime monitor asks every few
    seconds during an outage, and `make run` asks while the processes start): not a server error line."""

    def filter(self, record: logging.LogRecord) -> bool:
        path, status = _probe_answer(record)
        return not (path in PROBE_PATHS and status == 503)
