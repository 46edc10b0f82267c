"""Who may see a customer: marking it restricted (assignment grants the view, see customer_assign)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from audit.models import Source
from customers.models import Customer
from customers.services import customer_restrict


@require_POST
def customer_restrict_view(request: HttpRequest, public_id: str) -> HttpResponse:
    if not request.user.has_perm("customers.assign_customer"):
        raise PermissionDenied
    customer = get_object_or_404(Customer, public_id=public_id)
    restricted = request.POST.get("restricted") == "1"
    customer_restrict(customer=customer, restricted=restricted, actor=request.user, source=Source.UI)
    messages.success(
        request,
        "Restricted: only the owner and the person it is assigned to see this customer."
        if restricted
        else "This customer is visible to all staff again.",
    )
    url = reverse("customer_detail", args=[customer.public_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
