"""The customer list as CSV: the same search, filters and visibility rules as the screen, on the record."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_POST

from audit.exports import csv_response
from audit.models import Source
from audit.services import audit_record
from customers.forms import CustomerFilterForm
from customers.selectors import customer_search

COLUMNS = ["public_id", "email", "name", "status", "override", "plan", "mrr", "currency", "restricted",
           "assigned_to", "created_at"]


@require_POST
def customer_export(request: HttpRequest) -> StreamingHttpResponse:
    if not request.user.has_perm("customers.export_customers"):
        raise PermissionDenied
    filters = CustomerFilterForm(request.POST).search_filters()
    qs = customer_search(user=request.user, **filters)
    count = qs.order_by().count()
    audit_record(
        action="customers.exported",
        source=Source.UI,
        actor=request.user,
        summary=f"Exported {count} customers as CSV",
        changes={"filters": {k: v for k, v in filters.items() if v}, "rows": count},
    )
    rows = (
        (c.public_id, c.email, c.name, c.status, c.override_status if c.override_active else "", c.plan, c.mrr,
         c.currency, c.restricted, c.assigned_to.email if c.assigned_to else "", c.created_at.isoformat())
        for c in qs.iterator(chunk_size=2000)
    )
    return csv_response(name="customers", header=COLUMNS, rows=rows)
