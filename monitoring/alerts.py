"""Incidents and their messages: what the rules (``monitoring.rules``) find becomes incidents, and
every incident reaches a person exactly once per fact.

- A finding with no open incident opens one: one message.
- New facts joining an open incident (a job that died while others were already reported):
  one update message naming them. One incident per cause, so an outage that kills fifty jobs
  is one story with one "resolved", not fifty pages; yet every new fact is said once.
- Facts still true say nothing more; when none is left the incident resolves: one message.
- The same facts coming back within ALERT_QUIET_MINUTES of resolving reopen that incident
  quietly (flapping); any fact not told before opens a new incident (never swallowed).

The scheduler evaluates every ALERT_EVALUATE_SECONDS; when it is silent, the worker's
watchdog (``monitoring.watchdog``) does. Both may run at once: the incident row decides
(a row lock, or SQLite's single writer, when facts are recorded; a conditional UPDATE of
``claimed_until`` before a message is sent), so each message goes out once. Messages go
straight out by email and/or a Slack-compatible webhook: never through the job queue or
any system being watched.
"""

import statistics
from collections import defaultdict
from datetime import datetime, timedelta

import requests
import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.text import count_of
from monitoring.models import Incident
from monitoring.rules import RULES, Finding
from sync.models import JobStatus, SyncJob

log = structlog.get_logger(__name__)

# How long a sender may take before another evaluator may send the same message (a process
# that died mid-send): longer than both channels' timeouts together.
CLAIM_SECONDS = 120
WEBHOOK_TIMEOUT = 5
NAMED_FACTS = 10  # facts named in one update message; the rest are counted


def alerts_evaluate(*, now: datetime | None = None) -> list[Incident]:
    """Run every rule; open, update or resolve incidents; send what is due. Returns the open incidents."""
    now = now or timezone.now()
    current: dict[str, dict[str, Incident]] = defaultdict(dict)  # rule -> key -> open incident, read once
    for incident in Incident.objects.filter(resolved_at__isnull=True):
        current[incident.rule][incident.key] = incident
    for name, rule in RULES.items():
        try:
            findings = rule.check(now)
        except Exception as exc:  # noqa: BLE001 - one broken rule must not silence the others
            log.error("alert.rule_failed", rule=name, error=type(exc).__name__)
            continue
        incidents_apply(rule=name, findings=findings, now=now, current=current[name])
    # A rule that no longer exists cannot resolve its incidents: they end here.
    for name in set(current) - set(RULES):
        incidents_apply(rule=name, findings=[], now=now, current=current[name])
    incidents_notify(now=now)
    return list(Incident.objects.filter(resolved_at__isnull=True))


# --- recording facts --------------------------------------------------------------------


def incidents_apply(*, rule: str, findings: list[Finding], now: datetime,
                    current: dict[str, Incident] | None = None) -> None:
    """Bring ``rule``'s open incidents in line with what it found now. ``current``: its open
    incidents by key as read a moment ago (read here when not given)."""
    if current is None:
        current = {i.key: i for i in Incident.objects.filter(rule=rule, resolved_at__isnull=True)}
    if not _differs(current, findings):
        return  # the usual case: nothing changed, and no write lock is taken
    try:
        with transaction.atomic():
            _apply(rule, findings, now)
    except IntegrityError:
        # Another evaluator opened the same incident a moment ago, with the same facts; the
        # next evaluation sees it.
        log.info("alert.opened_elsewhere", rule=rule)


def _differs(current: dict[str, Incident], findings: list[Finding]) -> bool:
    """A cheap look before the locked one in ``_apply``, which re-reads what it changes."""
    if set(current) != {f.key for f in findings}:
        return True
    return any(
        current[f.key].facts != f.fact_list() or current[f.key].summary != f.summary[:300] for f in findings
    )


def _apply(rule: str, findings: list[Finding], now: datetime) -> None:
    # Locked in key order; on SQLite the transaction already holds the only write lock.
    current = {
        i.key: i
        for i in Incident.objects.select_for_update().filter(rule=rule, resolved_at__isnull=True).order_by("pk")
    }
    for finding in findings:
        incident = current.pop(finding.key, None)
        if incident is None:
            _open(rule, finding, now)
        else:
            _update(incident, finding)
    for gone in current.values():
        gone.resolved_at = now
        gone.save(update_fields=["resolved_at", "updated_at"])


def _open(rule: str, finding: Finding, now: datetime) -> None:
    facts = finding.fact_list()
    quiet_since = now - timedelta(minutes=settings.ALERT_QUIET_MINUTES)
    recent = (
        Incident.objects.select_for_update()
        .filter(rule=rule, key=finding.key, resolved_at__gte=quiet_since)
        .order_by("-resolved_at")
        .first()
    )
    if recent is not None and set(facts) <= set(recent.told):
        # Flapping: the very facts people were told about are back. Reopen without a message.
        recent.resolved_at, recent.facts, recent.summary = None, facts, finding.summary[:300]
        recent.reopened = F("reopened") + 1
        recent.save(update_fields=["resolved_at", "facts", "summary", "reopened", "updated_at"])
        return
    Incident.objects.create(rule=rule, key=finding.key, summary=finding.summary[:300], link=finding.link,
                            facts=facts, opened_at=now)


def _update(incident: Incident, finding: Finding) -> None:
    facts = finding.fact_list()
    told = set(incident.told)
    incident.news = incident.news or (incident.notified_open and any(f not in told for f in facts))
    incident.facts, incident.summary, incident.link = facts, finding.summary[:300], finding.link
    incident.save(update_fields=["facts", "summary", "link", "news", "updated_at"])


# --- messages ---------------------------------------------------------------------------


def incidents_notify(*, now: datetime | None = None) -> int:
    """Send every message that is due and not being sent by someone else; return how many went out."""
    now = now or timezone.now()
    due = (
        Incident.objects.filter(
            Q(notified_open=False) | Q(news=True, resolved_at__isnull=True)
            | Q(resolved_at__isnull=False, notified_resolved=False)
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return sum(_notify(pk, now) for pk in list(due))


def _notify(pk: int, now: datetime) -> int:
    claimed = (
        Incident.objects.filter(pk=pk)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )
    if not claimed:
        return 0  # another evaluator is sending it
    sent = 0
    try:
        incident = Incident.objects.get(pk=pk)  # as it is now that it is ours: maybe already told
        if not incident.notified_open:
            if not _send(incident, "Incident opened", incident.summary):
                return sent
            incident = _mark(pk, told=incident.facts, notified_open=True)
            sent += 1
        if incident.resolved_at is None and incident.news:
            new = [f for f in incident.facts if f not in set(incident.told)]
            if new and not _send(incident, "Incident update", f"{_named(incident, new)}. {incident.summary}"):
                return sent
            incident = _mark(pk, told=new)
            sent += bool(new)
        if incident.resolved_at is not None and not incident.notified_resolved:
            lasted = _duration(incident.resolved_at - incident.opened_at)
            if not _send(incident, "Resolved", f"{incident.summary} (lasted {lasted})"):
                return sent
            _mark(pk, notified_resolved=True)
            sent += 1
    finally:
        Incident.objects.filter(pk=pk).update(claimed_until=None)
    return sent


def _mark(pk: int, *, told: list[str] | None = None, **flags) -> Incident:
    """Record what a message said; return the incident as it now is. Under the row's lock: facts
    that joined while it was being sent stay news."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=pk)
        if told:
            incident.told = sorted(set(incident.told) | set(told), key=_fact_order)
        for name, value in flags.items():
            setattr(incident, name, value)
        told_now = set(incident.told)
        incident.news = incident.resolved_at is None and any(f not in told_now for f in incident.facts)
        incident.sent_on = []  # the next message starts with no channel served
        incident.save(update_fields=["told", "news", "sent_on", *flags, "updated_at"])
    return incident


def _fact_order(fact: str) -> tuple[int, str]:
    return (int(fact), "") if fact.isdigit() else (0, fact)


def _named(incident: Incident, new: list[str]) -> str:
    noun = RULES[incident.rule].noun if incident.rule in RULES else ""
    shown = ", ".join(f"#{f}" for f in new[:NAMED_FACTS]) + (f" and {len(new) - NAMED_FACTS} more" if len(new) > NAMED_FACTS else "")
    return f"{count_of(len(new), 'new ' + (noun or 'fact'))}: {shown}"


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _email(state: str, text: str, body: str) -> None:
    send_mail(f"[Switchboard] {state}: {text}"[:150], body, None, settings.ALERT_EMAILS)


def _webhook(state: str, text: str, body: str) -> None:
    response = requests.post(settings.ALERT_SLACK_WEBHOOK_URL, json={"text": body}, timeout=WEBHOOK_TIMEOUT)
    response.raise_for_status()


def _channels() -> list[tuple[str, object]]:
    return [(name, deliver) for name, deliver, on in (
        ("email", _email, bool(settings.ALERT_EMAILS)),
        ("webhook", _webhook, bool(settings.ALERT_SLACK_WEBHOOK_URL)),
    ) if on]


def _send(incident: Incident, state: str, text: str) -> bool:
    """True when every configured channel has taken the message (or none is configured). A channel
    that took it is remembered at once, so a retry after another channel refused reaches only that one."""
    body = f"[Switchboard] {state}: {text}\n{settings.SITE_URL}{incident.link}"
    delivered = True
    for name, deliver in _channels():
        if name in incident.sent_on:
            continue
        try:
            deliver(state, text, body)
        except Exception as exc:  # noqa: BLE001 - retried on the next evaluation
            log.warning(f"alert.{name}_failed", rule=incident.rule, error=type(exc).__name__)
            delivered = False
            continue
        incident.sent_on = [*incident.sent_on, name]
        Incident.objects.filter(pk=incident.pk).update(sent_on=incident.sent_on)
    if delivered:
        log.info("alert.sent", rule=incident.rule, key=incident.key, state=state)
    return delivered


# --- numbers the health screen and /metrics show (no longer an alert rule) -----------------


def sync_lag_seconds(*, since: datetime, system: str | None = None, limit: int = 5000) -> list[float]:
    """Seconds from Stripe event received to provider confirmed, for jobs finished since ``since``."""
    jobs = SyncJob.objects.filter(
        status=JobStatus.SUCCEEDED, finished_at__gte=since, source_event__isnull=False
    )
    if system:
        jobs = jobs.filter(system=system)
    lags = jobs.annotate(lag=F("finished_at") - F("source_event__received_at")).values_list("lag", flat=True)[:limit]
    return [lag.total_seconds() for lag in lags if lag is not None]


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]
