"""Tickets from the product's own apps: a JSON endpoint, authenticated by an app's API key.

The app opens a ticket for a customer it has signed in, by our id or their Stripe id. The ticket takes the
public form's path (``ticket_write``: stored first, routed by the same rules, sent to the desk through the
outbox). The caller's ``Idempotency-Key`` makes a retry find the first ticket; the same key with another
request is refused (422), never applied.
"""

import json

import structlog
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from audit.models import Source
from audit.services import audit_record
from core.logs import log_hash
from core.ratelimit import parse_rate, rate_limited
from customers.models import Customer, ExternalLink, System
from support.intake_keys import api_key_for
from support.models import ApiKey, Ticket, TicketCategory, TicketSource
from support.services.planning import ticket_write
from sync.services.outbox import jobs_enqueue_on_commit

log = structlog.get_logger(__name__)

MAX_BODY_BYTES = 64 * 1024
IDEMPOTENCY_KEY_MAX = 150
URGENCIES = {"low": "can wait a few days", "normal": "an answer today", "high": "cannot work until fixed"}


class IntakeConflict(Exception):
    """The Idempotency-Key was used before for a different request."""


class IntakeForm(forms.Form):
    customer_id = forms.CharField(max_length=20, required=False)
    stripe_customer_id = forms.CharField(max_length=255, required=False)
    category = forms.ChoiceField(choices=TicketCategory.choices)
    urgency = forms.ChoiceField(choices=[(k, k) for k in URGENCIES], required=False)
    device = forms.CharField(max_length=100, required=False)
    app_version = forms.CharField(max_length=50, required=False)
    message = forms.CharField(max_length=10_000)

    def clean(self):
        data = super().clean()
        ours, stripe = data.get("customer_id"), data.get("stripe_customer_id")
        if bool(ours) == bool(stripe):
            if "customer_id" not in self.errors and "stripe_customer_id" not in self.errors:
                self.add_error("customer_id", "Give either customer_id (Switchboard's) or stripe_customer_id, not both.")
            return data
        self.customer = _customer(ours=ours, stripe=stripe)
        if self.customer is None:
            self.add_error("stripe_customer_id" if stripe else "customer_id", "No customer has this id.")
        return data


def _customer(*, ours: str, stripe: str) -> Customer | None:
    if stripe:
        link = ExternalLink.objects.select_related("customer").filter(system=System.STRIPE, external_id=stripe).first()
        customer = link.customer if link else None
    else:
        customer = Customer.objects.filter(public_id=ours).first()
    for _ in range(3):  # an id of a merged-away record opens the ticket on the customer it became
        if customer is None or not customer.merged_into_id:
            break
        customer = customer.merged_into
    return customer


def _errors(errors: dict[str, list[str]], status: int = 400) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=status)


def _bearer(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value if scheme.lower() == "bearer" else ""


def _parse(request: HttpRequest) -> dict | JsonResponse:
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _errors({"body": ["The body is not JSON."]})
    if not isinstance(data, dict):
        return _errors({"body": ["The body must be a JSON object."]})
    unknown = sorted(set(data) - set(IntakeForm.base_fields))
    not_text = sorted(k for k, v in data.items() if k not in unknown and v is not None and not isinstance(v, str))
    if unknown or not_text:
        return _errors({**{k: ["Unknown field."] for k in unknown}, **{k: ["Must be a string."] for k in not_text}})
    return {k: v for k, v in data.items() if v is not None}


@csrf_exempt  # authenticated by the API key, never by a cookie: no browser session can reach it
@login_not_required
@require_POST
def intake_ticket(request: HttpRequest) -> JsonResponse:
    if len(request.body) > MAX_BODY_BYTES:
        return _errors({"body": [f"At most {MAX_BODY_BYTES // 1024} KB."]}, status=413)
    api_key = api_key_for(_bearer(request))
    if api_key is None:
        response = JsonResponse({"error": "A valid API key is needed: Authorization: Bearer sbk_…"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="switchboard-intake"'
        return response
    # Per key; while the cache is down each web process counts on its own (core.ratelimit): a looser
    # limit for a moment, but a customer asking for help from the app is not refused for our outage.
    rate = settings.SUPPORT_INTAKE_RATE_LIMIT
    if rate_limited(request, group="support_intake", rate=rate, value=api_key.prefix):
        response = JsonResponse({"error": "Too many requests for this key; try again later."}, status=429)
        response["Retry-After"] = str(parse_rate(rate)[1])  # the whole window: never too early
        return response
    idempotency_key = request.headers.get("Idempotency-Key", "").strip()
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX or not idempotency_key.isprintable():
        return _errors({"Idempotency-Key": [f"Send a unique Idempotency-Key header (1 to {IDEMPOTENCY_KEY_MAX} "
                                            "characters) per ticket; send the same one again to retry."]})
    data = _parse(request)
    if isinstance(data, JsonResponse):
        return data
    form = IntakeForm(data)
    if not form.is_valid():
        return _errors({field: [e["message"] for e in errs] for field, errs in form.errors.get_json_data().items()})
    fields = {k: form.cleaned_data[k] for k in ("category", "urgency", "device", "app_version", "message")}
    try:
        ticket, created = ticket_intake(api_key=api_key, idempotency_key=idempotency_key, customer=form.customer,
                                        **fields)
    except IntakeConflict:
        return JsonResponse({"error": "This Idempotency-Key was already used for a different request. "
                                      "Use a new key for a new ticket."}, status=422)
    response = JsonResponse({"ticket": _shown(ticket)}, status=201 if created else 200)
    response["Idempotent-Replayed"] = "false" if created else "true"
    return response


def _shown(ticket: Ticket) -> dict:
    return {"id": ticket.pk, "status": ticket.status, "priority": ticket.priority, "group": ticket.group,
            "customer_id": ticket.customer.public_id, "created_at": ticket.created_at.isoformat()}


def _text(*, api_key: ApiKey, urgency: str, device: str, app_version: str, message: str) -> str:
    asked = [f"Urgency (as given): {URGENCIES[urgency]}" if urgency else "",
             f"Device: {device.strip()}" if device.strip() else "",
             f"App version: {app_version.strip()}" if app_version.strip() else "",
             f"Sent from: {api_key.name}"]
    return message.rstrip() + "\n\n" + "\n".join(line for line in asked if line)


def ticket_intake(
    *, api_key: ApiKey, idempotency_key: str, customer: Customer, category: str, urgency: str, device: str,
    app_version: str, message: str,
) -> tuple[Ticket, bool]:
    """Open the ticket an app asks for, once per (key, Idempotency-Key); return it and whether it is new.

    The same Idempotency-Key with another customer, category or text raises ``IntakeConflict``.
    """
    key = f"app:{api_key.pk}:{idempotency_key}"
    text = _text(api_key=api_key, urgency=urgency, device=device, app_version=app_version, message=message)
    topic = dict(TicketCategory.choices).get(category, "Support request")
    subject = f"{topic}: {message.strip().splitlines()[0][:80]}"
    try:
        with transaction.atomic():
            ticket, job, created = ticket_write(
                key=key, customer=customer, subject=subject, category=category, priority=urgency or None,
                text=text, source=TicketSource.APP,
            )
            if created:
                audit_record(
                    action="support.ticket_intake",
                    source=Source.WEBHOOK,  # a call from outside Switchboard, as webhooks are
                    customer=customer,
                    target=ticket,
                    summary=f"Ticket opened from {api_key.name} ({api_key.prefix}…)",
                    changes={"priority": ticket.priority, "group": ticket.group, "category": category},
                )
                jobs_enqueue_on_commit(job_ids=[job.pk])
    except IntegrityError:  # the same request twice at once: the first one stands
        ticket, created = Ticket.objects.get(idempotency_key=key), False
    if not created and (ticket.customer_id, ticket.category, ticket.message) != (customer.pk, category, text):
        raise IntakeConflict
    log.info("support.intake_ticket", ticket_id=ticket.pk, created=created, api_key=api_key.prefix,
             customer=log_hash(customer.public_id))
    return ticket, created
