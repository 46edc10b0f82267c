"""The customer list, the customer 360 and identity review."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.models import Source
from core.http import redirect_after_post
from core.paging import keyset_page, sort_choice
from customers import selectors
from customers.forms import AssignForm, CustomerFilterForm, DistinctForm, MergeForm, OverrideForm
from customers.models import Customer, CustomerMerge
from customers.services import (
    CustomerError,
    customer_assign,
    customer_merge_undo,
    customer_override_clear,
    customer_override_set,
    customer_restrict,
    customers_mark_distinct,
    customers_merge,
)
from customers.visibility import customer_visible

# --- authorization helpers: one per object -------------------------------------------


OVERRIDE_DRAFT = "override_draft"


def get_customer_for(request: HttpRequest, public_id: str, *, perm: str = "customers.view_customer") -> Customer:
    """The customer, if this person holds ``perm`` and may see it (restricted customers); else 403."""
    if not request.user.has_perm(perm):
        raise PermissionDenied
    customer = get_object_or_404(Customer.objects.select_related("assigned_to", "override_set_by"), public_id=public_id)
    if not customer_visible(user=request.user, customer=customer):
        raise PermissionDenied
    return customer


# --- customers ---------------------------------------------------------------------------


CUSTOMER_SORTS = {"name": "name", "mrr": "mrr", "since": "created_at"}


@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("customers.view_customer"):
        raise PermissionDenied
    form = CustomerFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.customer_search(user=request.user, **form.search_filters())
    _, order = sort_choice(request.GET, CUSTOMER_SORTS, default="-created_at")
    page = keyset_page(qs, cursor=filters.get("cursor", ""), order=order)
    if request.GET.get("go") == "1" and filters.get("q") and len(page.rows) == 1 and not page.next_cursor:
        # Asked from the navigation's search box: one match is the customer they meant.
        return redirect("customer_detail", page.rows[0].public_id)
    context = {"form": form, "page": page, "plans": selectors.plans_in_use(), "query": filters.get("q", "")}
    if request.htmx and not request.htmx.boosted:
        return render(request, "customers/list.html#results", context)
    return render(request, "customers/list.html", context)


def _detail_context(request: HttpRequest, customer: Customer, **extra) -> dict:
    user = request.user
    context = {
        "customer": customer,
        **selectors.customer_360(customer=customer, user=user),
        "billing": user.has_perm("customers.view_billing"),
        "override_form": extra.pop("override_form", None)
        or OverrideForm(initial={"status": customer.override_status or "active"}),
        "assign_form": AssignForm(initial={"assignee": customer.assigned_to_id}),
        "can_override": user.has_perm("customers.override_status"),
        "can_assign": user.has_perm("customers.assign_customer"),
        "can_merge": user.has_perm("customers.merge_customer"),
    }
    context.update(extra)
    return context


@require_GET
def customer_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id)
    if customer.merged_into_id:
        messages.info(request, f"{customer.public_id} was merged into this customer.")
        return redirect("customer_detail", customer.merged_into.public_id)
    return render(request, "customers/detail.html",
                  _detail_context(request, customer, override_form=_override_draft(request, customer)))


def _back_to_customer(request: HttpRequest, customer: Customer) -> HttpResponse:
    return redirect_after_post(request, reverse("customer_detail", args=[customer.public_id]))


@require_POST
def customer_override(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id, perm="customers.override_status")
    form = OverrideForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            customer_override_set(
                customer=customer, **form.cleaned_data, actor=request.user, source=Source.UI
            )
        except CustomerError as exc:
            error = str(exc)
        else:
            messages.success(request, "Override saved. It is shown wherever this customer appears.")
            return _back_to_customer(request, customer)
    # Refused: back to the page (a reload must not send the form again), with what was typed and why.
    request.session[OVERRIDE_DRAFT] = {
        "public_id": customer.public_id,
        "data": {name: request.POST.get(name, "") for name in ("status", "reason", "expires_at")},
        "error": error,
    }
    messages.error(request, "The override was not saved; see the form below.")
    return redirect_after_post(request, reverse("customer_detail", args=[customer.public_id]) + "#override-form")


def _override_draft(request: HttpRequest, customer: Customer) -> OverrideForm | None:
    """The override form a refused POST left for this customer's page, checked again to show its errors."""
    draft = request.session.get(OVERRIDE_DRAFT)
    if not draft or draft.get("public_id") != customer.public_id:
        return None
    del request.session[OVERRIDE_DRAFT]
    form = OverrideForm(draft["data"])
    form.is_valid()
    if draft.get("error"):
        form.add_error(None, draft["error"])
    return form


@require_POST
def customer_override_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id, perm="customers.override_status")
    try:
        customer_override_clear(customer=customer, actor=request.user, source=Source.UI)
    except CustomerError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Override removed; the status follows billing again.")
    return _back_to_customer(request, customer)


@require_POST
def customer_assign_view(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id, perm="customers.assign_customer")
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose someone from the list.")
    else:
        customer_assign(customer=customer, assignee=form.cleaned_data["assignee"], actor=request.user, source=Source.UI)
        messages.success(request, "Owner changed.")
    return _back_to_customer(request, customer)


@require_POST
def customer_restrict_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """Mark a customer restricted (assignment grants the view, see customer_assign) or open it again."""
    customer = get_customer_for(request, public_id, perm="customers.assign_customer")
    restricted = request.POST.get("restricted") == "1"
    customer_restrict(customer=customer, restricted=restricted, actor=request.user, source=Source.UI)
    messages.success(
        request,
        "Restricted: only the owner and the person it is assigned to see this customer."
        if restricted
        else "This customer is visible to all staff again.",
    )
    return _back_to_customer(request, customer)


# --- identity review ------------------------------------------------------------------------


@require_GET
def customer_review(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id, perm="customers.merge_customer")
    if customer.merged_into_id:
        return redirect("customer_detail", customer.merged_into.public_id)
    candidates = selectors.identity_candidates(customer=customer, user=request.user)
    return render(
        request,
        "customers/review.html",
        {
            "customer": customer,
            "customer_since": selectors.customer_since(customer),
            "candidates": candidates,
            "customer_links": list(customer.links.all()),
            "customer_subscriptions": list(customer.subscriptions.all()[:3]),
        },
    )


def _other_for(request: HttpRequest, public_id: str) -> Customer:
    other = get_customer_for(request, public_id, perm="customers.merge_customer")
    if other.merged_into_id:
        raise Http404("That customer was merged already.")
    return other


@require_POST
def customer_merge(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id, perm="customers.merge_customer")
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose which record to keep.")
        return redirect("customer_review", customer.public_id)
    other = _other_for(request, form.cleaned_data["other"])
    survivor, merged = (customer, other) if form.cleaned_data["keep"] == "this" else (other, customer)
    try:
        customers_merge(survivor=survivor, merged=merged, actor=request.user, source=Source.UI)
    except CustomerError as exc:
        messages.error(request, str(exc))
        return redirect("customer_review", customer.public_id)
    messages.success(
        request, f"Merged {merged.public_id} into {survivor.public_id}. You can undo this for 24 hours below."
    )
    return redirect("customer_detail", survivor.public_id)


@require_POST
def customer_distinct(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id, perm="customers.merge_customer")
    form = DistinctForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the other customer.")
        return redirect("customer_review", customer.public_id)
    other = _other_for(request, form.cleaned_data["other"])
    try:
        customers_mark_distinct(
            customer=customer, other=other, note=form.cleaned_data["note"], actor=request.user, source=Source.UI
        )
    except CustomerError as exc:
        messages.error(request, str(exc))
        return redirect("customer_review", customer.public_id)
    messages.success(request, f"{customer.public_id} and {other.public_id} are recorded as different people.")
    return redirect("customer_detail", customer.public_id)


@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("customers.merge_customer"):
        raise PermissionDenied
    merge = get_object_or_404(CustomerMerge.objects.select_related("survivor", "merged"), pk=pk)
    get_customer_for(request, merge.survivor.public_id, perm="customers.merge_customer")
    try:
        customer_merge_undo(merge=merge, actor=request.user, source=Source.UI)
    except CustomerError as exc:
        messages.error(request, str(exc))
        return _back_to_customer(request, merge.survivor)
    messages.success(request, f"Merge undone: {merge.merged.public_id} is its own customer again.")
    return _back_to_customer(request, merge.merged)
