"""What gunicorn does around the app: close a connection whose request body the app refuses unread,
and keep client addresses out of its error log. ``config/gunicorn.py`` imports ``pre_request`` from
here and names ``ClientFreeLogger`` as its ``logger_class``.

Nothing here loads Django's settings or an app: gunicorn reads its settings before the app is loaded.
"""

import re

from gunicorn.glogging import Logger

from core.http import DESK_WEBHOOK_MAX_BODY_BYTES, MAX_BODY_BYTES

# The doors refuse bodies past these (413) without reading them; gunicorn closes the connection too.
_LIMITS = {"/webhooks/support/": DESK_WEBHOOK_MAX_BODY_BYTES}

_ADDRESS = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\b")


def pre_request(worker, req) -> None:
    """An oversized request is answered 413 before its body is read. Kept alive, the connection
    would either have to read every byte the client chose to send, or start the next request
    inside that body; so the answer says ``Connection: close`` and the connection ends with it.
    (An application cannot set that header itself: WSGI forbids hop-by-hop headers.)"""
    length = next((value for name, value in req.headers if name == "CONTENT-LENGTH"), "")
    if length.isdigit() and int(length) > _LIMITS.get(req.path, MAX_BODY_BYTES):
        req.force_close()


class ClientFreeLogger(Logger):
    """gunicorn's logger, except that an invalid request is logged without the client's address
    (gunicorn names it in every such line; scanners send many)."""

    def warning(self, msg, *args, **kwargs):
        if isinstance(msg, str) and msg.startswith("Invalid request from ip="):
            error = msg.split(": ", 1)[1] if ": " in msg else ""
            msg = "Invalid request: " + _ADDRESS.sub("[address]", error)
        super().warning(msg, *args, **kwargs)
