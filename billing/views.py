"""The webhook log: Stripe events by type and status, one event's payload and effects, replay."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.models import Source
from billing import selectors, services
from billing.errors import BillingError
from billing.forms import EventFilterForm
from billing.models import StripeEvent
from core.http import redirect_after_post
from core.paging import keyset_page, sort_choice
from customers.visibility import customer_visible


def get_event_for(request: HttpRequest, pk: int, *, perm: str = "billing.view_stripeevent") -> StripeEvent:
    if not request.user.has_perm(perm):
        raise PermissionDenied
    event = get_object_or_404(StripeEvent.objects.select_related("customer"), pk=pk)
    if event.customer is not None and not customer_visible(user=request.user, customer=event.customer):
        raise PermissionDenied
    return event


EVENT_SORTS = {"id": "pk", "type": "type", "created": "created"}


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("billing.view_stripeevent"):
        raise PermissionDenied
    form = EventFilterForm(request.GET)
    f = form.cleaned_data if form.is_valid() else {}
    qs = selectors.event_list(
        user=request.user, type=f.get("type", ""), status=f.get("status", ""), query=f.get("q", "")
    )
    _, order = sort_choice(request.GET, EVENT_SORTS, default="-pk")  # newest first by id: the primary key
    page = keyset_page(qs, cursor=f.get("cursor", ""), order=order)
    context = {"form": form, "page": page, "types": selectors.event_types()}
    if request.htmx and not request.htmx.boosted:
        return render(request, "billing/event_list.html#results", context)
    return render(request, "billing/event_list.html", context)


@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_event_for(request, pk)
    payload, redacted = selectors.event_payload_for(user=request.user, event=event)
    return render(
        request,
        "billing/event_detail.html",
        {
            "event": event,
            "payload": json.dumps(payload, indent=2, sort_keys=True, default=str),
            "redacted": redacted,
            "effects": selectors.event_effects(event),
            "can_replay": request.user.has_perm("billing.replay_event") and not event.mode_mismatch,
        },
    )


@require_POST
def event_replay(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_event_for(request, pk, perm="billing.replay_event")
    try:
        outcome = services.event_replay(event=event, actor=request.user, source=Source.UI)
    except BillingError as exc:
        messages.error(request, str(exc))
    else:
        if outcome == "failed":
            messages.error(request, "Replayed, and it failed again. The error below says what broke.")
        else:
            messages.success(request, f"Replayed: {outcome}.")
    return redirect_after_post(request, reverse("event_detail", args=[event.pk]))
