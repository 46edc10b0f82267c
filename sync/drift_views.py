"""The pages behind a drift item: its details (ignore with a note, accept for review) and the bulk
repair of one kind, previewed (a dry run) before anything is sent."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import Source
from core.http import redirect_after_post
from core.text import count_of
from customers.models import System
from customers.visibility import customer_visible
from sync.drift import MONEY_FIELDS, sentence
from sync.errors import SyncError
from sync.models import ToolDrift, DriftKind
from sync.providers import SANDBOX, provider_for
from sync.rules import SYNCED_SYSTEMS
from sync.services.drift import drift_accept, drift_ignore, drift_open, drift_repair, drift_repair_bulk

PREVIEW = 50  # lines the bulk preview lists


class NoteForm(forms.Form):
    note = forms.CharField(max_length=300, strip=True, error_messages={"required": "Write a short note saying why."})


def may_see_all(user) -> bool:
    return user.has_perm("sync.retry_job")


def allowed(user) -> bool:
    """The owner acts on every difference; finance on the money-related ones."""
    return may_see_all(user) or user.has_perm("sync.retry_billing_sync")


def narrowed(user, rows: QuerySet) -> QuerySet:
    return rows if may_see_all(user) else rows.filter(field__in=MONEY_FIELDS)


def tool_label(system: str) -> str:
    """The tool by name ("HubSpot"); a sandbox tool by what it stands in for ("the sandbox email tool")."""
    provider = provider_for(system)
    if provider.NAME != SANDBOX:
        return provider.LABEL
    label = System(system).label
    return f"the sandbox {label if label.isupper() else label.lower()}"


def drift_sentence(drift: ToolDrift, *, canceled_at=None) -> str:
    customer = drift.customer
    days = (timezone.now() - canceled_at).days if canceled_at else None
    return sentence(system_label=tool_label(drift.system), kind=drift.kind, field=drift.field,
                    expected=drift.expected, actual=drift.actual, status=customer.status if customer else "",
                    days=days)


def drift_reason(drift: ToolDrift) -> str:
    """The kind, and the two values where they say more than the sentence does."""
    if {drift.expected, drift.actual} <= {"", "present", "absent"}:
        return drift.get_kind_display()
    if drift.field == "spaces":  # ids the mapping rules give the plan, not a billing fact
        return (f"{drift.get_kind_display()}: the plan's spaces are {drift.expected or 'none'}, "
                f"the member has {drift.actual or 'none'}")
    return f"{drift.get_kind_display()}: billing says {drift.expected or 'nothing'}, the tool has {drift.actual or 'nothing'}"


def get_drift_for(request: HttpRequest, pk: int) -> ToolDrift:
    """The difference, if this person may act on it (its kind, its field, its customer); else 403."""
    if not allowed(request.user):
        raise PermissionDenied
    drift = get_object_or_404(ToolDrift.objects.select_related("customer", "resolved_by"), pk=pk)
    if not narrowed(request.user, ToolDrift.objects.filter(pk=drift.pk)).exists():
        raise PermissionDenied
    if drift.customer is not None and not customer_visible(user=request.user, customer=drift.customer):
        raise PermissionDenied
    return drift


def _detail(request: HttpRequest, drift: ToolDrift, form: NoteForm | None = None, error: str = "", status: int = 200):
    context = {"drift": drift, "sentence": drift_sentence(drift), "reason": drift_reason(drift),
               "tool": tool_label(drift.system), "form": form or NoteForm(), "error": error,
               "can_accept": drift.kind == DriftKind.IDENTITY_MISMATCH and drift.resolved_at is None,
               "can_repair": drift.customer_id is not None and drift.resolved_at is None}
    return render(request, "sync/drift_detail.html", context, status=status)


@require_http_methods(["GET"])
def drift_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_drift_for(request, pk))


def _close(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    drift = get_drift_for(request, pk)
    form = NoteForm(request.POST)
    if service is drift_ignore and not form.is_valid():
        return _detail(request, drift, form, status=422)
    note = form.cleaned_data.get("note", "") if form.is_valid() else ""
    try:
        service(drift=drift, note=note, actor=request.user, source=Source.UI)
    except SyncError as exc:
        return _detail(request, drift, form, error=str(exc), status=409)
    messages.success(request, done)
    return redirect_after_post(request, reverse("home"))


@require_POST
def drift_ignore_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _close(request, pk, drift_ignore, "Ignored: later passes leave this difference alone.")


@require_POST
def drift_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _close(request, pk, drift_accept,
                  "Kept for review: billing's email stays as it is until a person changes it on the customer's page.")


def repair_sent(jobs: list) -> str:
    """What a repair did, said the same on the queue's row and on the difference's page."""
    return f"Repair sent ({count_of(len(jobs), 'job')}); the next pass confirms the tool agrees."


@require_POST
def drift_repair_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Repair from the difference's own page: the same service as the queue's button."""
    drift = get_drift_for(request, pk)
    try:
        jobs = drift_repair(drift=drift, actor=request.user, source=Source.UI)
    except SyncError as exc:
        return _detail(request, drift, error=str(exc), status=409)
    messages.success(request, repair_sent(jobs))
    return redirect_after_post(request, reverse("drift_detail", args=[drift.pk]))


@require_http_methods(["GET", "POST"])
def drift_repair_all(request: HttpRequest, system: str, kind: str) -> HttpResponse:
    """GET (or the queue's button): what repairing every open difference of this kind would send.
    POST with ``confirm``: send it."""
    if not may_see_all(request.user):  # a bulk repair reaches every field: the owner's
        raise PermissionDenied
    if system not in SYNCED_SYSTEMS or kind not in DriftKind.values or kind == DriftKind.ORPHAN:
        raise PermissionDenied
    here = reverse("drift_repair_all", args=[system, kind])
    if request.method == "POST" and not request.POST.get("confirm"):
        return redirect_after_post(request, here)
    if request.method == "POST":
        lines = drift_repair_bulk(system=system, kind=kind, actor=request.user, source=Source.UI)
        messages.success(request, f"Repair sent for {len(lines)} difference{'s' if len(lines) != 1 else ''}; "
                                  f"the next pass confirms the tools agree.")
        return redirect("home")
    lines = drift_repair_bulk(system=system, kind=kind, actor=request.user, dry_run=True)
    total = drift_open().filter(system=system, kind=kind).count()
    return render(request, "sync/drift_repair_all.html", {
        "system": system, "system_label": dict(System.choices)[system], "kind": DriftKind(kind),
        "tool": tool_label(system), "lines": [(d, what, drift_sentence(d)) for d, what in lines[:PREVIEW]],
        "total": total,
    })
