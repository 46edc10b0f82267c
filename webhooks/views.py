"""The owner's screens: endpoints and Slack routes, each with its delivery log, test and resend.

A signing secret is shown once, on the answer to the request that made it (registration or a
rotation), never again: those answers are not cached anywhere."""

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sync.models import SyncJob
from webhooks import slack
from webhooks.errors import WebhookError
from webhooks.forms import DisableForm, EndpointForm, SlackRouteForm
from webhooks.models import MANAGE_PERM, PERSONAL_FIELDS, Endpoint, EndpointKind
from webhooks.selectors import RESENDABLE, endpoint_deliveries, endpoint_list
from webhooks.services import (
    delivery_resend, delivery_set_aside, endpoint_create, endpoint_disable, endpoint_enable, endpoint_rotate, endpoint_send_test,
    endpoint_update,
)


def _authorize(request: HttpRequest) -> None:
    if not request.user.has_perm(MANAGE_PERM):
        raise PermissionDenied


def get_endpoint_for(request: HttpRequest, pk: int) -> Endpoint:
    _authorize(request)
    return get_object_or_404(Endpoint, pk=pk)


@require_GET
def endpoints(request: HttpRequest) -> HttpResponse:
    _authorize(request)
    return render(request, "webhooks/endpoints.html", {"endpoints": endpoint_list(),
                                                       "failing_days": settings.WEBHOOK_FAILING_DAYS})


def _form_for(kind: str, data=None, endpoint: Endpoint | None = None):
    if kind == EndpointKind.SLACK:
        initial = {} if endpoint is None else {
            "url": endpoint.url, "description": endpoint.description, "notices": endpoint.notices,
            "refund_threshold": Decimal(endpoint.refund_threshold_cents) / 100,
            "personal_fields": endpoint.personal_fields}
        return SlackRouteForm(data, initial=initial)
    initial = {} if endpoint is None else {
        "url": endpoint.url, "description": endpoint.description, "event_types": endpoint.event_types}
    return EndpointForm(data, initial=initial)


def _values(form) -> dict:
    data = form.cleaned_data
    return {"url": data["url"], "description": data.get("description", ""),
            "event_types": data.get("event_types", []), "notices": data.get("notices", []),
            "refund_threshold_cents": int((data.get("refund_threshold") or 0) * 100),
            "personal_fields": data.get("personal_fields", [])}


@never_cache  # the answer that shows a new secret once must not be kept by any cache
@require_http_methods(["GET", "POST"])
def endpoint_new(request: HttpRequest) -> HttpResponse:
    _authorize(request)
    kind = request.GET.get("kind") or request.POST.get("kind") or EndpointKind.STANDARD
    if kind not in EndpointKind.values:
        kind = EndpointKind.STANDARD
    form = _form_for(kind, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = endpoint_create(kind=kind, actor=request.user, **_values(form))
        except WebhookError as exc:
            form.add_error(None, str(exc))
        else:
            return _detail(request, endpoint, secret=secret, made=True)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "kind": kind, "endpoint": None},
                  status=422 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_endpoint_for(request, pk)
    form = _form_for(endpoint.kind, request.POST or None, endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint_update(endpoint=endpoint, actor=request.user, **_values(form))
        except WebhookError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Saved. Deliveries still waiting go to the address as it is now.")
            return redirect("webhook_endpoint", pk=endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "kind": endpoint.kind, "endpoint": endpoint},
                  status=422 if request.method == "POST" else 200)


@never_cache
@require_GET
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_endpoint_for(request, pk))


def _detail(request: HttpRequest, endpoint: Endpoint, *, secret: str = "", made: bool = False) -> HttpResponse:
    return render(request, "webhooks/endpoint_detail.html", {
        "endpoint": endpoint, "secret": secret, "made": made, "deliveries": endpoint_deliveries(endpoint=endpoint),
        "resendable": RESENDABLE, "disable_form": DisableForm(), "failing_days": settings.WEBHOOK_FAILING_DAYS,
        "notice_labels": [slack.NOTICES[n] for n in endpoint.notices if n in slack.NOTICES],
        "personal_labels": [PERSONAL_FIELDS[f] for f in endpoint.personal_fields if f in PERSONAL_FIELDS],
    })


@never_cache
@require_POST
def endpoint_rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_endpoint_for(request, pk)
    try:
        secret = endpoint_rotate(endpoint=endpoint, actor=request.user)
    except WebhookError as exc:
        messages.error(request, str(exc))
        return redirect("webhook_endpoint", pk=endpoint.pk)
    endpoint.refresh_from_db()
    return _detail(request, endpoint, secret=secret)


@require_POST
def endpoint_disable_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_endpoint_for(request, pk)
    form = DisableForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why you are switching it off, so the team knows when to switch it on again.")
        return redirect("webhook_endpoint", pk=endpoint.pk)
    if endpoint_disable(endpoint=endpoint, reason=form.cleaned_data["reason"], actor=request.user):
        messages.success(request, "Switched off: new events skip it, and deliveries waiting hold until it is on.")
    return redirect("webhook_endpoint", pk=endpoint.pk)


@require_POST
def endpoint_enable_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_endpoint_for(request, pk)
    if endpoint_enable(endpoint=endpoint, actor=request.user):
        messages.success(request, "Switched on: the deliveries that waited go now.")
    return redirect("webhook_endpoint", pk=endpoint.pk)


@require_POST
def endpoint_test_view(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_endpoint_for(request, pk)
    try:
        job = endpoint_send_test(endpoint=endpoint, actor=request.user)
    except WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Test event {job.payload['message_id']} queued: its attempts appear below.")
    return redirect("webhook_endpoint", pk=endpoint.pk)


@require_POST
def delivery_resend_view(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    endpoint = get_endpoint_for(request, pk)
    job = get_object_or_404(SyncJob, pk=job_pk, system=endpoint.system)
    try:
        delivery_resend(endpoint=endpoint, job=job, actor=request.user)
    except WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Delivery {job.payload.get('message_id', '')} queued again, with the same id.")
    return redirect("webhook_endpoint", pk=endpoint.pk)


@require_POST
def delivery_set_aside_view(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    endpoint = get_endpoint_for(request, pk)
    job = get_object_or_404(SyncJob, pk=job_pk, system=endpoint.system)
    try:
        delivery_set_aside(endpoint=endpoint, job=job, note=request.POST.get("note", ""), actor=request.user)
    except WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Delivery {job.payload.get('message_id', '')} set aside: it will not be sent.")
    return redirect("webhook_endpoint", pk=endpoint.pk)
