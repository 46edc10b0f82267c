"""Every alert rule, the same way: it fires once, stays quiet while the condition holds, resolves once,
and fires again on a new fact after the quiet period. Faults are made through the product's own
doors (webhooks, sign-ins, the breaker) where it has one; time is moved, never slept."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import Drift, EventStatus, StripeEvent
from monitoring.alerts import alerts_evaluate
from monitoring.heartbeats import heartbeat_record
from monitoring.models import Incident
from sync.models import JobStatus, ReasonCode, SyncAttempt, SyncJob
from sync.services import job_set_aside, system_pause
from sync.services.control import breaker_record_failure, breaker_record_success
from tests import stripe_events as se
from tests.factories import StripeEventFactory, SyncJobFactory, UserFactory
from tests.monitoring.conftest import slack_texts

pytestmark = pytest.mark.django_db


@dataclass
class World:
    clock: object  # time_machine's traveller: .shift()
    client: object
    settings: object
    made: list = field(default_factory=list)

    def now(self):
        return timezone.now()


@dataclass
class Alarm:
    rule: str
    fault: Callable[[World], None]
    clear: Callable[[World], None]
    words: str  # in the opening message
    beats: tuple[str, ...] = ("worker", "scheduler")
    settings: dict = field(default_factory=dict)


def _events(w: World) -> None:
    StripeEventFactory.create_batch(97, status=EventStatus.PROCESSED)
    StripeEventFactory.create_batch(3, status=EventStatus.FAILED)


def _attempts(w: World) -> None:
    job = SyncJobFactory(status=JobStatus.SUCCEEDED)
    for n, outcome in enumerate(["transient"] * 3 + ["ok"] * 27, start=1):
        SyncAttempt.objects.create(job=job, number=n, started_at=w.now(), outcome=outcome)


def _past_window(minutes_setting: str):
    return lambda w: w.clock.shift(timedelta(minutes=getattr(w.settings, minutes_setting) + 1))


def _crm_failing(w: World) -> None:
    for _ in range(3):
        breaker_record_failure(system="crm", reason=ReasonCode.UNAVAILABLE, probe=False, now=w.now() - timedelta(minutes=6))


def _late_job(w: World) -> None:
    w.made.append(SyncJobFactory(status=JobStatus.PENDING, next_attempt_at=w.now() - timedelta(minutes=11)))


def _late_job_done(w: World) -> None:
    SyncJob.objects.filter(pk__in=[j.pk for j in w.made]).update(status=JobStatus.SUCCEEDED)


def _silence(w: World) -> None:
    if not StripeEvent.objects.exists():
        StripeEventFactory(status=EventStatus.PROCESSED)
    w.clock.shift(timedelta(minutes=61))


def _bad_signatures(w: World) -> None:
    for _ in range(10):
        se.post(w.client, se.body(se.event("customer.created", se.customer("cus_x"))), secret="whsec_wrong")


def _failed_signins(w: World) -> None:
    for n in range(10):
        w.client.post(reverse("login"), {"username": f"nobody{n}@example.com", "password": "guess"})


def _dead_job(w: World) -> None:
    w.made.append(SyncJobFactory(status=JobStatus.DEAD, reason_code=ReasonCode.AUTH_FAILED, finished_at=w.now()))


def _set_aside(w: World) -> None:
    actor = UserFactory(role="owner")
    for job in SyncJob.objects.dead():
        job_set_aside(job=job, actor=actor, note="the CRM deleted this contact on purpose")


def _drift(w: World) -> None:
    Drift.objects.create(object_type="subscription", stripe_id=f"sub_{len(w.made)}", kind=Drift.Kind.STATUS,
                         field="status", ours="active", stripes="canceled", found_at=w.now())
    w.made.append("drift")


ALARMS = [
    Alarm("webhook_failures", _events, _past_window("ALERT_FAILURE_WINDOW_MINUTES"),
          "3 of 100 (3.0%) Stripe webhooks rejected or failed in 15 min"),
    Alarm("job_failures", _attempts, _past_window("ALERT_FAILURE_WINDOW_MINUTES"),
          "3 of 30 (10.0%) outbound job attempts failed in 15 min"),
    Alarm("system_down", _crm_failing, lambda w: breaker_record_success(system="crm"),
          "CRM (HubSpot) is down: no call has succeeded since", settings={"HUBSPOT_ACCESS_TOKEN": "token"}),
    Alarm("backlog", _late_job, _late_job_done, "Outbound work is not draining: 1 job due for over 10 min"),
    Alarm("no_webhook", _silence, lambda w: StripeEventFactory(status=EventStatus.PROCESSED),
          "No Stripe webhook for over 60 min", settings={"ALERT_NO_WEBHOOK_MINUTES": 60}),
    # A rejected signature is also a failed webhook; that rule is kept out of this one's way.
    Alarm("signature_failures", _bad_signatures, _past_window("ALERT_SIGNATURE_WINDOW_MINUTES"),
          "10 Stripe webhooks failed signature checks in 10 min",
          settings={"ALERT_FAILURE_RATE": 1.0, "STRIPE_WEBHOOK_SECRETS": [se.SECRET]}),
    Alarm("signin_failures", _failed_signins, _past_window("ALERT_SIGNIN_WINDOW_MINUTES"),
          "10 of 10 (100.0%) staff sign-ins failed in 10 min"),
    Alarm("heartbeat", lambda w: w.clock.shift(timedelta(seconds=w.settings.HEARTBEAT_STALE_SECONDS + 1)),
          lambda w: heartbeat_record(name="scheduler"), "The scheduler (celery beat) has shown no life since",
          beats=("worker",)),
    Alarm("dead_jobs", _dead_job, _set_aside, "1 outbound job dead; newest:"),
    Alarm("stripe_drift", _drift, lambda w: Drift.objects.update(resolved_at=w.now()),
          "1 difference between Stripe and Switchboard"),
]


@pytest.fixture
def world(channels, client, settings):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        yield World(clock=clock, client=client, settings=settings)


@pytest.mark.parametrize("alarm", ALARMS, ids=[a.rule for a in ALARMS])
def test_a_rule_fires_once_holds_quietly_resolves_once_and_fires_again_on_a_new_fact(alarm, world, channels):
    for name, value in alarm.settings.items():
        setattr(world.settings, name, value)
    heartbeat_record(name="worker")
    heartbeat_record(name="scheduler")

    def texts():
        for name in alarm.beats:
            heartbeat_record(name=name)
        alerts_evaluate()
        return slack_texts(channels)

    alarm.fault(world)
    assert len(texts()) == 1
    assert slack_texts(channels)[0].startswith(f"[Switchboard] Incident opened: {alarm.words}")
    for _ in range(2):  # the condition holds: nothing more is said
        world.clock.shift(timedelta(seconds=60))
        assert len(texts()) == 1

    alarm.clear(world)
    assert len(texts()) == 2 and slack_texts(channels)[1].startswith(f"[Switchboard] Resolved: {alarm.words}")
    assert len(texts()) == 2

    world.clock.shift(timedelta(minutes=world.settings.ALERT_QUIET_MINUTES + 1))
    alarm.fault(world)
    assert len(texts()) == 3 and slack_texts(channels)[2].startswith("[Switchboard] Incident opened")
    assert set(Incident.objects.values_list("rule", flat=True)) == {alarm.rule}
    assert Incident.objects.filter(resolved_at__isnull=True).count() == 1


def test_one_typo_among_three_sign_ins_is_not_an_incident(channels, client, owner):
    from tests.conftest import PASSWORD

    client.post(reverse("login"), {"username": owner.email, "password": "typo"})
    for _ in range(2):
        client.post(reverse("login"), {"username": owner.email, "password": PASSWORD})
        client.post(reverse("logout"))
    assert "signin_failures" not in {i.rule for i in alerts_evaluate()}


def test_sign_in_failures_below_the_rate_among_many_sign_ins_are_not_an_incident(channels, client, settings):
    settings.ALERT_SIGNIN_MIN_FAILURES = 3
    _failed_signins(World(clock=None, client=client, settings=settings))  # 10 failures
    staff, browser = UserFactory(), Client()
    for _ in range(330):  # 10 of 340 is 2.9%
        browser.force_login(staff)
    assert "signin_failures" not in {i.rule for i in alerts_evaluate()}
    for _ in range(2):
        client.post(reverse("login"), {"username": "nobody@example.com", "password": "guess"})
    assert "signin_failures" in {i.rule for i in alerts_evaluate()}  # 12 of 342 is 3.5%


def test_webhook_failures_at_one_percent_do_not_fire(channels):
    StripeEventFactory.create_batch(99, status=EventStatus.PROCESSED)
    StripeEventFactory.create(status=EventStatus.FAILED)
    assert "webhook_failures" not in {i.rule for i in alerts_evaluate()}


def test_rejected_signatures_count_toward_the_webhook_failure_rate(channels, client):
    StripeEventFactory.create_batch(10, status=EventStatus.PROCESSED)
    for _ in range(3):
        se.post(client, se.body(se.event("customer.created", se.customer("cus_x"))), secret="whsec_wrong")
    assert "webhook_failures" in {i.rule for i in alerts_evaluate()}


def test_nine_signature_failures_are_not_yet_a_burst(channels, client, settings):
    settings.ALERT_FAILURE_RATE = 1.0
    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    for _ in range(9):
        se.post(client, se.body(se.event("customer.created", se.customer("cus_x"))), secret="whsec_wrong")
    assert "signature_failures" not in {i.rule for i in alerts_evaluate()}


def test_a_paused_systems_waiting_jobs_are_not_a_backlog(channels, owner):
    SyncJobFactory(status=JobStatus.PENDING, system="crm", next_attempt_at=timezone.now() - timedelta(hours=2))
    system_pause(system="crm", actor=owner, reason="migrating the CRM")
    assert "backlog" not in {i.rule for i in alerts_evaluate()}


def test_a_job_due_for_less_than_the_backlog_limit_is_not_a_backlog(channels):
    SyncJobFactory(status=JobStatus.RETRYING, next_attempt_at=timezone.now() - timedelta(minutes=9))
    assert "backlog" not in {i.rule for i in alerts_evaluate()}


def test_a_system_failing_for_less_than_the_limit_is_not_down_yet(channels):
    breaker_record_failure(system="crm", reason=ReasonCode.TIMEOUT, probe=False, now=timezone.now() - timedelta(minutes=4))
    assert "system_down" not in {i.rule for i in alerts_evaluate()}


def test_two_systems_down_are_two_incidents_each_resolving_on_its_own(channels):
    for system in ("crm", "email"):
        breaker_record_failure(system=system, reason=ReasonCode.UNAVAILABLE, probe=False,
                               now=timezone.now() - timedelta(minutes=6))
    alerts_evaluate()
    breaker_record_success(system="email")
    alerts_evaluate()
    down = {i.key: i.resolved_at for i in Incident.objects.filter(rule="system_down")}
    assert down["crm"] is None and down["email"] is not None
    texts = slack_texts(channels)
    assert len(texts) == 3 and texts[2].startswith("[Switchboard] Resolved: Email tool (sandbox) is down")


def test_one_failed_job_attempt_or_one_stray_webhook_is_not_an_incident(channels, client, settings):
    settings.STRIPE_WEBHOOK_SECRETS = [se.SECRET]
    job = SyncJobFactory(status=JobStatus.RETRYING)
    SyncAttempt.objects.create(job=job, number=1, started_at=timezone.now(), outcome="transient")
    se.post(client, b"{}", header="t=1,v1=nothing")  # one stray, unsigned request at the door
    opened = {i.rule for i in alerts_evaluate()}
    assert not opened & {"job_failures", "webhook_failures"}
    for n in range(2, 4):
        SyncAttempt.objects.create(job=job, number=n, started_at=timezone.now(), outcome="transient")
    assert "job_failures" in {i.rule for i in alerts_evaluate()}
