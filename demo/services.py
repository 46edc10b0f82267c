"""Seeding the demo by running the product, so every number and state on the screens is derived.

The story's Stripe events are signed with a secret made for this run (accepted only while the
seeding runs) and posted to the webhook door in process, in Stripe's order; each stored event
is applied by ``event_process`` and its outbound jobs run through ``job_run``: the code the
door and the worker run. The jobs go to the sandbox, except the few the story marks, which go
to a loopback fake that fails the way HubSpot, Circle and Kit fail. The staff's actions (a
mapping-rule change, a pause, an override, a merge, a refund above the approval threshold, a
routed ticket) go through the services the screens call, as the demo logins.

No worker and no broker: this process is the worker while it seeds. The wake-ups the door and
the outbox publish after each commit run in process (Celery's eager mode), so each event is
applied and its jobs run before the next event is posted, by the tasks a worker runs. Where a
caller's transaction holds the wake-ups back (the tests), the seeding calls the same functions.

Seeding again changes nothing: the door answers every event as a duplicate, and each staff
action looks for its own record first.
"""

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from auditlog.context import set_actor
from celery import current_app  # the project's app (config.celery), the default in every thread
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.test import RequestFactory, override_settings
from django.urls import resolve, reverse
from django.utils import timezone

from audit.context import bind_correlation_id, new_correlation_id
from audit.models import AuditEvent, Source
from billing.models import Charge, EventStatus, RefundRequest, StripeEvent
from billing.services import event_process
from billing.services.refunds import refund_needs_approval, refund_request
from customers.models import Customer, CustomerMerge, CustomerStatus, ExternalLink, System
from customers.services import customer_override_set, customers_merge
from demo import stripe_events as se
from demo.loopback import FAULTY_TOOLS, FailingTools
from demo.logins import demo_logins_ensure
from demo.story import BUSINESS_SPACE, CAST, LATEST, RECENT, Delivery, Story, story_build
from support.models import Ticket
from support.services import ticket_open, ticket_submit
from sync import providers
from sync.models import DriftPass, MappingRule, SyncJob, SystemState
from sync.providers.sandbox import state as sandbox_tools
from sync.services import job_run, mapping_rule_edit, mapping_rules_current, system_pause
from sync.services.drift import reconcile_tools

WORKER = "seed_demo"


class DemoError(Exception):
    """The demo cannot be seeded here, in a sentence."""


@dataclass
class SeedReport:
    stored: int = 0  # events the door stored in this run
    duplicates: int = 0  # events it already had
    jobs: int = 0  # outbound jobs those events caused
    actions: list[str] = field(default_factory=list)  # staff actions taken in this run
    seconds: float = 0.0


@dataclass(frozen=True)
class _Seeding:
    secret: str
    tools: FailingTools
    door: str


def demo_seed(*, now: int | None = None) -> SeedReport:
    """Seed (or complete) the demo: logins, six weeks of Stripe history, the staff's actions."""
    if not settings.DEMO_LOGINS:
        raise DemoError("Demo data is disabled here (DEMO_LOGINS is off, as in production).")
    started = time.monotonic()
    report = SeedReport()
    with transaction.atomic():
        users = demo_logins_ensure()
    story = story_build(now=now or int(time.time()), livemode=settings.STRIPE_LIVEMODE)
    history, recent, latest = _phases(story)
    with _seeding() as seeding:
        _deliver_all(history, seeding, report)
        _business_space_rule(owner=users["owner"], report=report)
        _deliver_all(recent, seeding, report)
        _community_pause(owner=users["owner"], report=report)
        _deliver_all(latest, seeding, report)
        owner = users["owner"]
        _override(owner=owner, customer=_customer(story, CAST.override), report=report)
        _merge(owner=owner, survivor=_customer(story, CAST.survivor), merged=_customer(story, CAST.merged),
               report=report)
        _refund_for_approval(finance=users["finance"], charge_id=story.people[CAST.annual].last_charge, report=report)
        _routed_ticket(support=users["support"], customer=_customer(story, CAST.paid_no_access), report=report)
        _unknown_sender(report=report)
        _tool_drift(report=report)  # inside: the pass reads the sandbox tools, never a real one
    report.seconds = time.monotonic() - started
    return report


def _phases(story: Story) -> tuple[list[Delivery], list[Delivery], list[Delivery]]:
    ordered = story.in_order()
    recent_from, latest_from = story.now - RECENT, story.now - LATEST
    return ([d for d in ordered if d.at < recent_from],
            [d for d in ordered if recent_from <= d.at < latest_from],
            [d for d in ordered if d.at >= latest_from])


@contextmanager
def _seeding() -> Iterator[_Seeding]:
    """For the duration: a webhook secret of this run's own, no real tool reachable, the fake
    started, and wake-ups run in process."""
    secret = "whsec_demo_" + secrets.token_hex(24)
    # override_settings is Django's way to change settings for a block and put them back;
    # the door and the providers read settings at each call. Every tool's credentials are blanked:
    # demo customers never reach a real account, whatever this install has configured. Only the
    # loopback fake receives the marked jobs.
    accepted = override_settings(STRIPE_WEBHOOK_SECRETS=[*settings.STRIPE_WEBHOOK_SECRETS, secret],
                                 **{name: "" for tool in providers.tools().values() for name in tool.CREDENTIALS})
    eager = current_app.conf.task_always_eager
    with accepted, FailingTools() as tools:
        current_app.conf.task_always_eager = True
        try:
            yield _Seeding(secret=secret, tools=tools, door=reverse("stripe_webhook"))
        finally:
            current_app.conf.task_always_eager = eager


# --- billing facts: the door, then the worker's code ------------------------------------------


def _deliver_all(deliveries: list[Delivery], seeding: _Seeding, report: SeedReport) -> None:
    for delivery in deliveries:
        _deliver(delivery, seeding, report)


def _deliver(delivery: Delivery, seeding: _Seeding, report: SeedReport) -> None:
    """One event through the door. The wake-up the door publishes after its commit applies the event
    in this process (``event_process``), and the outbox's wake-ups run its jobs (``job_run``), as a
    worker would. When a caller's transaction holds the wake-ups back, the same is done here."""
    with _failing(delivery.failing, seeding.tools):
        new = _through_the_door(delivery.event, seeding)
        event = StripeEvent.objects.get(stripe_id=delivery.event["id"])
        if event.status == EventStatus.RECEIVED:
            event_process(event_id=event.pk)
            for pk in SyncJob.objects.waiting().filter(source_event=event).order_by("pk").values_list(
                    "pk", flat=True):
                job_run(job_id=pk, worker=WORKER)
            event.refresh_from_db()
    if event.status == EventStatus.FAILED:
        raise DemoError(f"Stripe event {event.stripe_id} ({event.type}) could not be applied: {event.last_error}")
    if new:
        report.stored += 1
        report.jobs += SyncJob.objects.filter(source_event=event).count()
    else:
        report.duplicates += 1


@contextmanager
def _failing(tools: tuple[str, ...], fake: FailingTools) -> Iterator[None]:
    """This event's jobs for those tools' systems go to the fake, with a credential it refuses."""
    with ExitStack() as stack:
        for tool in tools:
            stack.enter_context(override_settings(**fake.settings_for(tool)))
        yield


def _through_the_door(evt: dict, seeding: _Seeding) -> bool:
    """POST the signed event to the webhook door in process; True when the door stored it now."""
    raw = se.body(evt)
    # RequestFactory builds the same request object the web server hands the view.
    request = RequestFactory().post(seeding.door, data=raw, content_type="application/json",
                                    headers={"Stripe-Signature": se.sign(raw, seeding.secret)})
    response = resolve(seeding.door).func(request)
    if response.status_code != 200:
        raise DemoError(f"The webhook door refused {evt['type']} {evt['id']} with {response.status_code}: "
                        f"{response.content.decode(errors='replace')[:200]}")
    return not json.loads(response.content).get("duplicate", False)


# --- the staff's actions, through the services the screens call ---------------------------------


@contextmanager
def _acting(user) -> Iterator[None]:
    """As ``user``: field changes name them too (django-auditlog), under a correlation id of their own."""
    bind_correlation_id(new_correlation_id())
    with set_actor(user):
        yield


def _customer(story: Story, n: int) -> Customer:
    return ExternalLink.objects.select_related("customer").get(
        system=System.STRIPE, external_id=story.people[n].cid).customer


def _business_space_rule(*, owner, report: SeedReport) -> None:
    """The owner gives Business members a Circle space (an id Circle does not know: see the story)."""
    if MappingRule.objects.filter(system=System.COMMUNITY, created_by=owner).exists():
        return
    rules = mapping_rules_current()[System.COMMUNITY].rules
    with _acting(owner):
        mapping_rule_edit(system=System.COMMUNITY, actor=owner, source=Source.COMMAND,
                          rules={**rules, "plan_spaces": {**rules.get("plan_spaces", {}), "Business": [BUSINESS_SPACE]}},
                          note="Business members join the Founders space")
    report.actions.append("owner: community mapping rules give Business members a space")


def _community_pause(*, owner, report: SeedReport) -> None:
    """Circle refused the space for every Business member since the rule change: the owner holds
    new invitations until the id is fixed."""
    paused_before = AuditEvent.objects.filter(action="sync.system_pause", actor=owner, changes__system=System.COMMUNITY)
    if paused_before.exists() or SystemState.objects.filter(system=System.COMMUNITY, paused=True).exists():
        return
    with _acting(owner):
        system_pause(system=System.COMMUNITY, actor=owner, source=Source.COMMAND,
                     reason=f"Circle refuses space {BUSINESS_SPACE} for Business members; invitations wait "
                            "until the mapping rules name the right space")
    report.actions.append("owner: paused community automation")


def _override(*, owner, customer: Customer, report: SeedReport) -> None:
    """Access kept by hand while billing says past due: the queue shows the contradiction."""
    if AuditEvent.objects.filter(action="customer.override_set", customer=customer).exists():
        return
    with _acting(owner):
        customer_override_set(customer=customer, status=CustomerStatus.ACTIVE, actor=owner, source=Source.COMMAND,
                              reason="Pays by bank transfer from this month on; agreed on a call",
                              expires_at=timezone.now() + timedelta(days=10))
    report.actions.append(f"owner: override on {customer.public_id}")


def _merge(*, owner, survivor: Customer, merged: Customer, report: SeedReport) -> None:
    """A checkout abandoned after Stripe made a second customer for the same person: merged."""
    if CustomerMerge.objects.filter(merged=merged).exists() or merged.merged_into_id or survivor.merged_into_id:
        return
    with _acting(owner):
        customers_merge(survivor=survivor, merged=merged, actor=owner, source=Source.COMMAND)
    report.actions.append(f"owner: merged {merged.public_id} into {survivor.public_id}")


def _refund_for_approval(*, finance, charge_id: str, report: SeedReport) -> None:
    """Finance asks to refund half a year of an annual plan; above the threshold it waits for the owner."""
    token = "demo-annual-refund"
    if RefundRequest.objects.filter(submit_token=token).exists():
        return
    charge = Charge.objects.get(stripe_id=charge_id)
    amount = charge.amount // 2 if refund_needs_approval(charge.amount // 2, charge.currency) else charge.amount
    if not refund_needs_approval(amount, charge.currency):
        report.actions.append("finance: no refund of the annual payment is above REFUND_APPROVAL_THRESHOLD; none asked")
        return
    with _acting(finance):
        request = refund_request(charge=charge, amount=amount, reason="requested_by_customer", actor=finance,
                                 note="Moving to the monthly Pro plan: refund the unused half of the year",
                                 submit_token=token, source=Source.COMMAND)
    report.actions.append(f"finance: refund request {request.pk} waits for the owner's approval")


def _routed_ticket(*, support, customer: Customer, report: SeedReport) -> None:
    """Support opens a case for a customer who paid and cannot get in; the routing rules place it."""
    token = "demo-paid-no-access"
    if Ticket.objects.filter(idempotency_key=f"staff:{token}").exists():
        return
    with _acting(support):
        ticket = ticket_open(customer=customer, subject="Paid, but no invitation to the community yet",
                             category="access", priority="high", token=token, actor=support, source=Source.COMMAND,
                             note="The card was charged a few hours ago; the invitation email never came (not in spam).")
    ticket.refresh_from_db()
    if ticket.sync_job_id and SyncJob.objects.waiting().filter(pk=ticket.sync_job_id).exists():
        job_run(job_id=ticket.sync_job_id, worker=WORKER)  # the desk gets it (its wake-up may have done it already)
    report.actions.append(f"support: ticket {ticket.pk} routed to the {ticket.group or '(no)'} group")


def _unknown_sender(*, report: SeedReport) -> None:
    """Someone who is not a customer yet writes in through the public form: the desk (sandbox) answers
    them at once, and the message waits in the queue for support to link it to a customer."""
    token = "demo-unknown-sender"
    if Ticket.objects.filter(idempotency_key=f"form:{token}").exists():
        return
    bind_correlation_id(new_correlation_id())
    ticket = ticket_submit(name="Priya Raman", email="priya@northwind.example", category="question", token=token,
                           plan="Business", message="We are twelve people and would like to try the Business "
                           "plan before we buy. Is there a trial for teams?")
    ticket.refresh_from_db()
    if ticket.sync_job_id and SyncJob.objects.waiting().filter(pk=ticket.sync_job_id).exists():
        job_run(job_id=ticket.sync_job_id, worker=WORKER)  # the desk gets it (its wake-up may have done it already)
    report.actions.append(f"a visitor: form message {ticket.pk} sent to the desk, waiting to be linked")


def _tool_drift(*, report: SeedReport) -> None:
    """People edit the tools by hand: a canceled customer let back into the community, an old Zap
    tagging a past-due customer as a customer in the email tool, a CRM contact's email retyped.
    Then the daily pass reads every sandbox tool back and records what disagrees with billing."""
    if DriftPass.objects.exists():
        return
    live = Customer.objects.live().exclude(email="").order_by("pk")
    canceled = live.filter(status=CustomerStatus.CANCELED).last()
    settled = ~Exists(SyncJob.objects.open().filter(customer=OuterRef("pk"), system=System.EMAIL))
    past_due = live.filter(settled, status=CustomerStatus.PAST_DUE).last()
    active = live.filter(status=CustomerStatus.ACTIVE).first()
    if canceled:
        sandbox_tools.put(System.COMMUNITY, canceled.public_id, {"email": canceled.email, "spaces": []})
    if past_due:
        sandbox_tools.change(System.EMAIL, past_due.public_id,
                             lambda data: {**data, "email": past_due.email,
                                           "tags": sorted({*data.get("tags", []), "customer"})})
    if active:
        sandbox_tools.change(System.CRM, active.public_id,
                             lambda data: {**data, "email": active.email.replace("@", ".old@")})
    found = sum(len(result.found) for result in reconcile_tools())
    report.actions.append(f"someone edited the tools by hand; the daily pass found {found} differences with billing")
