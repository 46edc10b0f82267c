"""The audit screen: filter the trail, and export it as CSV (the export is itself on the record)."""

import csv

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audit import selectors
from audit.forms import AuditFilterForm
from audit.models import Source
from audit.services import audit_record

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
    before = form.cleaned_data.get("before") if form.is_valid() else None
    if before:
        qs = qs.filter(pk__lt=before)
    rows = list(qs[: PAGE_SIZE + 1])
    context = {
        "form": form,
        "rows": rows[:PAGE_SIZE],
        "next_before": rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None,
        "actions": selectors.audit_actions(user=request.user),
        "can_export": request.user.has_perm("audit.export"),
        "sees_all": request.user.has_perm("audit.view_all_audit"),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "audit/list.html#results", context)
    return render(request, "audit/list.html", context)


def _cell(value) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; notes typed by staff must stay text."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_POST
def audit_export(request: HttpRequest) -> StreamingHttpResponse:
    """The filtered trail as CSV, streamed; the export is recorded first, with its filter and size."""
    _require(request, "audit.export")
    form = AuditFilterForm(request.POST)
    filters = form.filters()
    qs = selectors.audit_search(user=request.user, **filters)
    count = qs.count()
    shown = {k: (v.email if hasattr(v, "email") else str(v)) for k, v in filters.items() if v}
    audit_record(
        action="audit.exported",
        source=Source.UI,
        actor=request.user,
        summary=f"Exported {count} audit entries as CSV",
        changes={"filters": shown, "rows": count},
    )
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_COLUMNS)
        for e in qs.order_by("id").iterator(chunk_size=2000):
            yield writer.writerow([_cell(v) for v in (
                e.pk, e.created_at.isoformat(), e.actor_label, e.action, e.source, e.correlation_id,
                e.customer.public_id if e.customer else "", e.object_type, e.object_id,
                e.summary, e.changes, e.hash,
            )])

    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="switchboard-audit-{stamp}.csv"'
    return response
