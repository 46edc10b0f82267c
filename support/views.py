import json

import structlog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.http import is_rules_check, redirect_after_post, rules_check_answer
from core.jsondiff import json_diff
from core.ratelimit import rate_limited
from customers.models import Customer
from customers.views import get_customer_for
from customers.visibility import customer_visible
from support import selectors
from support.forms import CaseForm, RoutingRuleForm, SupportRequestForm, TicketChangeForm, new_token
from support.models import Ticket, TicketCategory
from support.routing_editor import SAMPLE_SENDERS, routing_from_post, routing_preview, routing_rows
from support.rules import PRIORITY_ORDER, STATES, routing_problems
from support.services.changes import CHANGE_STATUSES
from support.services import (
    SupportError,
    desk_groups,
    routing_rule_current,
    routing_rule_edit,
    ticket_change,
    ticket_link,
    ticket_open,
    ticket_submit,
)

log = structlog.get_logger(__name__)


def get_ticket_for(request: HttpRequest, pk: int, *, perm: str = "support.view_ticket") -> Ticket:
    """The ticket, if this person holds ``perm`` and may see its customer; else 403."""
    if not request.user.has_perm(perm):
        raise PermissionDenied
    ticket = get_object_or_404(Ticket.objects.select_related("customer", "sync_job", "opened_by"), pk=pk)
    if ticket.customer is not None and not customer_visible(user=request.user, customer=ticket.customer):
        raise PermissionDenied
    return ticket


@require_http_methods(["GET", "POST"])
def case_new(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id, perm="support.open_ticket")
    form = CaseForm(request.POST or None, initial={"token": new_token()})
    if request.method == "POST" and form.is_valid():
        try:
            ticket = ticket_open(customer=customer, actor=request.user, **form.cleaned_data)
        except SupportError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Case opened: {ticket.subject}. It reaches the support desk in the background."
            )
            return redirect("customer_detail", customer.public_id)
    status = 422 if request.method == "POST" else 200
    return render(request, "support/case_new.html", {"customer": customer, "form": form}, status=status)


@login_not_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    """The public support form: no login, CSRF-protected, rate-limited per address, with a honeypot."""
    # Fails open to a per-process count while the cache is down: a customer asking for help is
    # not turned away for our outage, and one address still gets at most the limit per web process
    # (the honeypot and the desk's own spam handling stay in place).
    if request.method == "POST" and rate_limited(request, group="support_form", rate=settings.SUPPORT_FORM_RATE_LIMIT):
        form = SupportRequestForm(request.POST)
        form.is_valid()  # keep what the person typed on the page
        return render(request, "support/request_new.html", {"form": form, "limited": True}, status=429)
    form = SupportRequestForm(request.POST or None, initial={"token": new_token()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if form.is_bot:
            log.info("support.form_honeypot")
        else:
            ticket_submit(
                name=data["name"],
                email=data["email"],
                category=data["category"],
                message=data["message"],
                token=data["token"],
                urgency=data["urgency"],
                plan=data["plan"],
                device=data["device"],
            )
        return redirect("support_request_thanks")
    status = 422 if request.method == "POST" else 200
    return render(request, "support/request_new.html", {"form": form}, status=status)


@login_not_required
def request_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "support/request_thanks.html")


def _routing_page(request: HttpRequest, current, *, form, editor, review=None, advanced=False, status=200):
    context = {
        "form": form, "editor": editor, "review": review, "advanced": advanced, "current": current,
        "history": selectors.routing_rule_history(), "categories": TicketCategory.choices,
        "states": sorted(STATES), "priorities": PRIORITY_ORDER,
    }
    return render(request, "support/routing.html", context, status=status)


def _routing_review(current, rules: dict, note: str) -> dict:
    plan = Customer.objects.live().exclude(plan="").order_by("pk").values_list("plan", flat=True).first() or "Pro"
    return {
        "changes": json_diff(current.rules, rules),
        "preview_head": ["Message about", *[who for who, _ in SAMPLE_SENDERS]],
        "preview_rows": routing_preview(rules, plan=plan, compare_with=current.rules),
        "sample": f"a message on the {plan} plan (group · priority)",
        "form": RoutingRuleForm(initial={"rules": json.dumps(rules, indent=2), "note": note,
                                         "base_version": current.version}),
    }


@require_http_methods(["GET", "POST"])
def routing_rules(request: HttpRequest) -> HttpResponse:
    """The rules as rows; "Review changes" shows the difference and where messages would go; "Save" adds a
    version (the advanced view edits the JSON itself)."""
    if not request.user.has_perm("support.edit_routing"):
        raise PermissionDenied
    current = routing_rule_current()
    initial = {"rules": json.dumps(current.rules, indent=2), "base_version": current.version}
    if request.method == "GET":
        return _routing_page(request, current, form=RoutingRuleForm(initial=initial), editor=routing_rows(current.rules))
    if is_rules_check(request):
        return rules_check_answer(request, current=current.rules, json_form=RoutingRuleForm,
                                  from_rows=lambda data: routing_from_post(data, current.rules),
                                  problems_of=routing_problems)
    note = request.POST.get("note", "")[:300]
    if request.POST.get("step") == "review" and request.POST.get("mode") != "json":
        rules, errors = routing_from_post(request.POST, current.rules)
        editor = routing_rows(current.rules, data=request.POST, errors=errors)
        problems = list(errors.values()) or routing_problems(rules)
        if problems:
            editor.errors = errors or {"__all__": " ".join(problems)}
            return _routing_page(request, current, form=RoutingRuleForm(initial=initial), editor=editor, status=422)
        review = _routing_review(current, rules, note)
        return _routing_page(request, current, form=RoutingRuleForm(initial=initial), editor=editor, review=review)
    form = RoutingRuleForm(request.POST)
    if form.is_valid():
        rules = form.cleaned_data["rules"]
        if request.POST.get("step") == "review":
            problems = routing_problems(rules)
            if not problems:
                review = _routing_review(current, rules, note)
                return _routing_page(request, current, form=form, editor=routing_rows(rules), review=review,
                                     advanced=True)
            form.add_error("rules", " ".join(problems))
        elif "base_version" in request.POST and form.cleaned_data["base_version"] != current.version:
            form.add_error("rules", "Someone saved the routing rules since you opened them; review the newest version.")
        else:
            try:
                rule = routing_rule_edit(rules=rules, note=form.cleaned_data["note"], actor=request.user)
            except SupportError as exc:
                form.add_error("rules", str(exc))
            else:
                messages.success(
                    request, f"Routing rules saved as version {rule.version}. New tickets use them now."
                )
                return redirect_after_post(request, reverse("support_routing"))
    return _routing_page(request, current, form=form, editor=routing_rows(current.rules), advanced=True, status=422)


def _change_form(ticket: Ticket, data=None) -> TicketChangeForm:
    return TicketChangeForm(data, ticket=ticket, statuses=CHANGE_STATUSES, groups=desk_groups(ticket),
                            initial={"token": new_token()})


def _ticket_page(request: HttpRequest, ticket: Ticket, *, change_form=None, status: int = 200) -> HttpResponse:
    can_change = request.user.has_perm("support.open_ticket")
    return render(
        request,
        "support/ticket_detail.html",
        {
            "ticket": ticket,
            "can_link": ticket.customer_id is None and can_change,
            "change_form": (change_form or _change_form(ticket)) if can_change else None,
            "changes": selectors.ticket_changes(ticket),
            "desk_url": selectors.desk_ticket_url(ticket),
            "candidates": selectors.link_candidates(ticket=ticket, user=request.user),
        },
        status=status,
    )


def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _ticket_page(request, get_ticket_for(request, pk))


@require_POST
def ticket_change_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Support (and the owner) change a desk ticket or write on it; the desk gets it through the outbox."""
    ticket = get_ticket_for(request, pk, perm="support.open_ticket")
    form = _change_form(ticket, request.POST)
    if form.is_valid():
        try:
            change = ticket_change(ticket=ticket, actor=request.user, **form.change())
        except SupportError as exc:
            form.add_error(None, str(exc))
        else:
            said = change.summary[:1].upper() + change.summary[1:]  # a group's name keeps its capitals
            messages.success(request, f"{said}: pending at the desk until it confirms.")
            back = request.POST.get("next", "")
            if ticket.customer_id and back == "customer":
                return redirect_after_post(request, reverse("customer_detail", args=[ticket.customer.public_id]))
            return redirect_after_post(request, reverse("support_ticket_detail", args=[ticket.pk]))
    return _ticket_page(request, ticket, change_form=form, status=422)


@require_POST
def ticket_link_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_ticket_for(request, pk, perm="support.open_ticket")
    customer = Customer.objects.filter(public_id=request.POST.get("public_id", "").strip()).first()
    if customer is None or not customer_visible(user=request.user, customer=customer):
        messages.error(request, "No customer with that Switchboard id.")
        return redirect("support_ticket_detail", ticket.pk)
    try:
        ticket_link(ticket=ticket, customer=customer, actor=request.user)
    except SupportError as exc:
        messages.error(request, str(exc))
    else:
        sent = ticket.sync_job_id is not None  # already in the desk: it is handed to the customer there
        messages.success(request, f"Linked to {customer.public_id}; "
                         + ("the desk's ticket is handed to them now." if sent else "the ticket goes to the support desk now."))
    return redirect("support_ticket_detail", ticket.pk)
