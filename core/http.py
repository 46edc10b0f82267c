"""Answers shared by every app's views, and the body limits of the doors that take posts from outside."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

# The largest body any Switchboard endpoint reads (the Stripe webhook door's limit), and the smaller
# limit of the support desk's door. gunicorn (config.gunicorn_hooks) ends the connection past the same
# limits, which is why they live here and not in the apps: it reads them before Django is loaded.
MAX_BODY_BYTES = 1024 * 1024
DESK_WEBHOOK_MAX_BODY_BYTES = 256 * 1024


def redirect_after_post(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST, a full-page visit to ``url``: htmx follows ``HX-Redirect`` (a plain redirect would be
    swapped into the form's target), a browser a 302."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def body_too_large(request: HttpRequest, limit: int) -> bool:
    """More than ``limit`` bytes, as declared or as sent. A declared length over the limit is refused
    without reading the body; a body that turns out longer than it declared is refused too."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    return declared > limit or len(request.body) > limit
