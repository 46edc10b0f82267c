"""Answers shared by every app's views, and the body limits of the doors that take posts from outside."""

import json
import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import HttpResponseClientRedirect

from core.jsondiff import json_diff

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


def is_rules_check(request: HttpRequest) -> bool:
    """The rules editors' check while a person types (htmx posts the form with ``check=1``)."""
    return bool(request.htmx and request.POST.get("check"))


def rules_check_answer(request: HttpRequest, *, current: dict, json_form, from_rows, problems_of) -> HttpResponse:
    """What a rules editor shows as a person types, for the form that asked (its rows, or the advanced
    JSON with ``mode=json``): each field's problem beside it, the problems of the whole set, or how many
    values differ from the version in force. Nothing is saved; "Review changes" checks the same way.

    ``json_form``: the form class that reads the JSON; ``from_rows(data)``: the rules the rows describe
    and their errors (input name -> sentence); ``problems_of(rules)``: what is wrong with a whole set."""
    if request.POST.get("mode") == "json":
        form = json_form(request.POST)
        rules = form.cleaned_data["rules"] if form.is_valid() else None
        errors = {name: " ".join(messages) for name, messages in form.errors.items()}
    else:
        rules, errors = from_rows(request.POST)
    problems = list(errors.values()) or problems_of(rules)
    form_id = request.htmx.trigger or ""
    return render(request, "_rules_check.html", {
        "answered": True, "form_id": form_id if re.fullmatch(r"[\w-]{1,80}", form_id) else "rules",
        "field_errors": json.dumps(errors), "problems": problems,
        "changes": [] if problems else [change.path for change in json_diff(current, rules)],
    })
