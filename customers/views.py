"""The "needs action now" queue, the customer list, the customer 360 and identity review."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from audit.models import Source
from customers import selectors
from customers.forms import AssignForm, CustomerFilterForm, DistinctForm, MergeForm, OverrideForm, ResolveForm
from customers.links import link_url
from customers.models import Customer, CustomerMerge
from customers.services import (
    CustomerError,
    action_item_assign,
    action_item_resolve,
    customer_assign,
    customer_merge_undo,
    customer_override_clear,
    customer_override_set,
    customer_restrict,
    customers_mark_distinct,
    customers_merge,
)

QUEUE_REFRESH_SECONDS = 5


# --- authorization helpers: one per object -------------------------------------------


def get_customer_for(request: HttpRequest, public_id: str, *, perm: str = "customers.view_customer") -> Customer:
    """The customer, if this person holds ``perm`` and may see it (restricted customers); else 403."""
    if not request.user.has_perm(perm):
        raise PermissionDenied
    customer = get_object_or_404(Customer.objects.select_related("assigned_to", "override_set_by"), public_id=public_id)
    if not selectors.customer_visible(user=request.user, customer=customer):
        raise PermissionDenied
    return customer


def get_action_item_for(request: HttpRequest, kind: str, object_id) -> selectors.ActionItem | None:
    """The open queue item, or None when it is gone; 403 when this person may not act on it."""
    object_id = str(object_id)
    if not selectors.action_object_allowed(user=request.user, kind=kind, object_id=object_id):
        raise PermissionDenied
    return selectors.action_item_for(user=request.user, kind=kind, object_id=object_id)


# --- needs action now ---------------------------------------------------------------------


def _queue_context(request: HttpRequest, mine: bool) -> dict:
    return {
        "queue": selectors.action_items_for(user=request.user, mine=mine),
        "mine": mine,
        "last_event_at": selectors.last_event_received_at(),
        "checked_at": timezone.now(),
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    mine = request.GET.get("mine") == "1"
    context = _queue_context(request, mine)
    if request.htmx and not request.htmx.boosted:
        return render(request, "customers/home.html#queue", context)
    return render(request, "customers/home.html", context)


def _row(request: HttpRequest, kind: str, object_id: str, *, done: str = "", error: str = "", status: int = 200):
    """The queue row after an action: the open item again, or a line saying what happened to it."""
    item = None if done else selectors.action_item_for(user=request.user, kind=kind, object_id=object_id)
    context = {
        "item": item,
        "kind": kind,
        "object_id": object_id,
        "dom_id": selectors.ActionItem(kind, object_id, "", "", timezone.now()).dom_id,
        "done": done or ("" if item else "This item is no longer open."),
        "error": error,
    }
    return render(request, "customers/_queue_row.html", context, status=status)


@require_POST
def queue_assign(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    item = get_action_item_for(request, kind, object_id)
    if item is None:
        return _row(request, kind, object_id)
    action_item_assign(kind=kind, object_id=object_id, assignee=request.user, actor=request.user, source=Source.UI)
    return _row(request, kind, object_id)


@require_POST
def queue_resolve(request: HttpRequest, kind: str, object_id: str) -> HttpResponse:
    item = get_action_item_for(request, kind, object_id)
    if item is None:
        return _row(request, kind, object_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _row(request, kind, object_id, error="Write a short note saying what you did.", status=422)
    action_item_resolve(
        kind=kind, object_id=object_id, note=form.cleaned_data["note"], actor=request.user, source=Source.UI
    )
    return _row(request, kind, object_id, done=f"Resolved by you: {form.cleaned_data['note']}")


@require_POST
def queue_retry(request: HttpRequest, object_id: str) -> HttpResponse:
    from sync.errors import SyncError
    from sync.models import SyncJob
    from sync.services import job_retry

    item = get_action_item_for(request, "dead_job", object_id)
    if item is None:
        return _row(request, "dead_job", object_id)
    try:
        job_retry(job=SyncJob.objects.get(pk=object_id), actor=request.user, source=Source.UI)
    except SyncError as exc:
        return _row(request, "dead_job", object_id, error=str(exc))
    return _row(request, "dead_job", object_id, done="Queued again; it runs in a moment. Nothing else to do.")


@require_POST
def queue_retry_all(request: HttpRequest, system: str) -> HttpResponse:
    from sync.errors import SyncError
    from sync.selectors import dead_jobs_to_retry, retryable_systems
    from sync.services import jobs_retry_bulk
    from sync.views import start_batch

    if system not in retryable_systems(request.user):
        raise PermissionDenied
    jobs = dead_jobs_to_retry(user=request.user, system=system)
    try:
        lines = jobs_retry_bulk(jobs=jobs, actor=request.user, source=Source.UI)
    except SyncError as exc:
        messages.error(request, str(exc))
        return _go(request, reverse("home"))
    key = start_batch(request, lines, f"Retry of every dead {system} job")
    return _go(request, reverse("retry_batch", args=[key]))


@require_POST
def queue_replay(request: HttpRequest, object_id: str) -> HttpResponse:
    from billing.models import StripeEvent
    from billing.services import BillingError, event_replay

    item = get_action_item_for(request, "failed_event", object_id)
    if item is None:
        return _row(request, "failed_event", object_id)
    try:
        outcome = event_replay(event=StripeEvent.objects.get(pk=object_id), actor=request.user, source=Source.UI)
    except BillingError as exc:
        return _row(request, "failed_event", object_id, error=str(exc))
    if outcome == "failed":
        return _row(request, "failed_event", object_id, error="Replayed, and it failed again; see the event's error.")
    return _row(request, "failed_event", object_id, done=f"Replayed: {outcome}.")


@require_POST
def queue_resume(request: HttpRequest, object_id: str) -> HttpResponse:
    from sync.errors import SyncError
    from sync.services import system_resume

    item = get_action_item_for(request, "system", object_id)
    if item is None:
        return _row(request, "system", object_id)
    try:
        system_resume(system=item.system, actor=request.user, source=Source.UI)
    except SyncError as exc:
        return _row(request, "system", object_id, error=str(exc))
    return _row(request, "system", object_id, done=f"{item.system} resumed; waiting work starts now.")


# --- customers ---------------------------------------------------------------------------


@require_GET
def customer_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("customers.view_customer"):
        raise PermissionDenied
    form = CustomerFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.customer_search(user=request.user, **form.search_filters())
    page = selectors.keyset_page(qs, cursor=filters.get("cursor", ""))
    context = {"form": form, "page": page, "plans": selectors.plans_in_use(), "query": filters.get("q", "")}
    if request.htmx and not request.htmx.boosted:
        return render(request, "customers/list.html#results", context)
    return render(request, "customers/list.html", context)


def _detail_context(request: HttpRequest, customer: Customer, **extra) -> dict:
    user = request.user
    billing = user.has_perm("customers.view_billing")
    context = {
        "customer": customer,
        "since": selectors.customer_since(customer),
        "links": [(link, link_url(link)) for link in customer.links.all()],
        "billing": billing,
        "sync_states": selectors.customer_sync_state(customer),
        "timeline": selectors.customer_timeline(customer),
        "tickets": list(customer.tickets.all()[:20]),
        "open_merges": selectors.customer_open_merges(customer),
        "merged_from": list(customer.merged_from.all()[:10]),
        "override_form": extra.pop("override_form", None)
        or OverrideForm(initial={"status": customer.override_status or "active"}),
        "assign_form": AssignForm(initial={"assignee": customer.assigned_to_id}),
        "can_override": user.has_perm("customers.override_status"),
        "can_assign": user.has_perm("customers.assign_customer"),
        "can_merge": user.has_perm("customers.merge_customer"),
    }
    if billing:
        context.update(
            subscriptions=list(customer.subscriptions.all()[:10]),
            invoices=list(customer.invoices.all()[:10]),
            charges=list(customer.charges.all()[:10]),
            refunds=list(customer.refunds.all()[:10]),
            disputes=list(customer.disputes.all()[:10]),
        )
    context.update(extra)
    return context


@require_GET
def customer_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id)
    if customer.merged_into_id:
        messages.info(request, f"{customer.public_id} was merged into this customer.")
        return redirect("customer_detail", customer.merged_into.public_id)
    return render(request, "customers/detail.html", _detail_context(request, customer))


def _go(request: HttpRequest, url: str) -> HttpResponse:
    """After a POST: a full-page visit, also when htmx sent the form."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _back_to_customer(request: HttpRequest, customer: Customer) -> HttpResponse:
    return _go(request, reverse("customer_detail", args=[customer.public_id]))


@require_POST
def customer_override(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id, perm="customers.override_status")
    form = OverrideForm(request.POST)
    if form.is_valid():
        try:
            customer_override_set(
                customer=customer, **form.cleaned_data, actor=request.user, source=Source.UI
            )
        except CustomerError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Override saved. It is shown wherever this customer appears.")
            return _back_to_customer(request, customer)
    return render(request, "customers/detail.html", _detail_context(request, customer, override_form=form), status=422)


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
