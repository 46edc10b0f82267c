"""The audit screen: filter the trail, and export it as CSV (the export is itself on the record)."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from audit import selectors
from audit.exports import csv_response
from audit.forms import AuditFilterForm
from audit.models import Source
from audit.services import audit_record
from core.paging import keyset_page

PAGE_SIZE = 100
CSV_COLUMNS = ["id", "created_at", "actor", "action", "source", "correlation_id", "customer", "object_type",
               "object_id", "summary", "changes", "hash"]


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    _require(request, "audit.view_auditevent")
    form = AuditFilterForm(request.GET)
    qs = selectors.audit_search(user=request.user, **form.filters())
    cursor = form.cleaned_data.get("cursor", "") if form.is_valid() else ""
    # newest first by id: the trail's primary key is its order (entries are chained in it)
    context = {"form": form, "page": keyset_page(qs, cursor=cursor, size=PAGE_SIZE, time_field=None)}
    if request.htmx and not request.htmx.boosted:
        return render(request, "audit/list.html#results", context)
    # Only the full page has the filter's suggestions: a DISTINCT over the whole visible trail.
    context["actions"] = selectors.audit_actions(user=request.user)
    context["can_export"] = request.user.has_perm("audit.export")
    context["sees_all"] = request.user.has_perm("audit.view_all_audit")
    return render(request, "audit/list.html", context)


@require_POST
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered trail as CSV, streamed; the export is recorded first, with its filter and size."""
    _require(request, "audit.export")
    form = AuditFilterForm(request.POST)
    filters = form.filters()
    qs = selectors.audit_search(user=request.user, **filters)
    count = qs.count()
    newest = qs.values_list("id", flat=True).first() or 0  # the export's own entry is not part of it
    shown = {k: (v.email if hasattr(v, "email") else str(v)) for k, v in filters.items() if v}
    audit_record(
        action="audit.exported",
        source=Source.UI,
        actor=request.user,
        summary=f"Exported {count} audit entries as CSV",
        changes={"filters": shown, "rows": count},
    )
    rows = (
        (e.pk, e.created_at.isoformat(), e.actor_label, e.action, e.source, e.correlation_id,
         e.customer.public_id if e.customer else "", e.object_type, e.object_id, e.summary, e.changes, e.hash)
        for e in qs.filter(pk__lte=newest).order_by("id").iterator(chunk_size=2000)
    )
    return csv_response(name="audit", header=CSV_COLUMNS, rows=rows)
