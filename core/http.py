"""Answers shared by every app's views."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect


def redirect_after_post(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST, a full-page visit to ``url``: htmx follows ``HX-Redirect`` (a plain redirect would be
    swapped into the form's target), a browser a 302."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
