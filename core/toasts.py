"""Every action's outcome as a toast: a full page shows Django's messages itself (base.html); an htmx
answer that is not a whole page carries them in its ``HX-Trigger`` header, so they are shown at once
and not left waiting for the next page someone opens."""

import json
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse

EVENT = "sb:toast"


def _level(tags: str) -> str:
    return "danger" if "error" in tags else (tags.split()[-1] if tags else "info")


class HtmxMessagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        htmx = getattr(request, "htmx", None)
        # A client redirect (HX-Redirect) loads a page that shows the messages itself.
        if not htmx or htmx.boosted or response.has_header("HX-Redirect") or 300 <= response.status_code < 400:
            return response
        toasts = [{"level": _level(m.tags), "text": str(m)} for m in messages.get_messages(request)]
        if not toasts:
            return response
        trigger = {}
        if response.has_header("HX-Trigger"):
            existing = response["HX-Trigger"]
            try:
                trigger = json.loads(existing)
            except ValueError:  # the plain "event-name" spelling
                trigger = {name.strip(): None for name in existing.split(",")}
        trigger[EVENT] = toasts
        response["HX-Trigger"] = json.dumps(trigger)
        return response
