"""The alert rules: each looks at the database (or the counters) and names the facts that are wrong now.

A rule returns one ``Finding`` per thing that is wrong (one per system that is down, one
per missing process; most rules have at most one) and nothing when all is well. What
happens next (incidents, messages) is ``monitoring.alerts``. Every threshold is a setting.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from billing import counters
from billing.models import Drift, EventStatus, StripeEvent
from billing.webhooks import SIGNATURE_REASONS
from core.text import count_of
from customers.models import System
from monitoring.heartbeats import heartbeat_ages, heartbeats_stale, watched_long_enough
from monitoring.models import Heartbeat, Incident
from monitoring.signins import SIGNIN
from sync.models import DriftKind, ReasonCode, SyncAttempt, SyncJob, SystemState
from sync.providers import provider_for
from sync.rules import SYNCED_SYSTEMS
from sync.services.control import paused_switches
from sync.services.drift import tool_drift_open_by_kind

# Facts one incident keeps at most (dead jobs, drift): the newest, so a new one is always among them.
MAX_FACTS = 5000


@dataclass(frozen=True)
class Finding:
    """One thing wrong now. ``facts`` identify what exactly (dead job ids); by default the key itself."""

    summary: str
    link: str = ""
    key: str = ""
    facts: tuple[str, ...] = ()

    def fact_list(self) -> list[str]:
        return list(self.facts) or [self.key or "on"]


@dataclass(frozen=True)
class Rule:
    name: str
    title: str
    check: Callable[[datetime], list[Finding]]
    noun: str = ""  # what one fact is, for "2 new dead jobs: #41, #42"


RULES: dict[str, Rule] = {}


def rule(name: str, title: str, *, noun: str = ""):
    def register(check: Callable[[datetime], list[Finding]]):
        RULES[name] = Rule(name, title, check, noun)
        return check

    return register


def rule_title(name: str) -> str:
    """What a person calls the rule (a retired rule keeps its name)."""
    return RULES[name].title if name in RULES else name.replace("_", " ").capitalize()


def path(name: str, query: str = "") -> str:
    try:
        return reverse(name) + query
    except NoReverseMatch:
        return "/"


def when(at: datetime, now: datetime) -> str:
    """A moment as a person reads it in a message: the time, with the date when it is not today."""
    local, today = timezone.localtime(at), timezone.localtime(now)
    return local.strftime("%H:%M %Z" if local.date() == today.date() else "%b %d %H:%M %Z")


def rate_text(bad: int, total: int) -> str:
    return f"{bad} of {total} ({bad / max(total, 1):.1%})"


# --- rules ------------------------------------------------------------------------------


def _failing(bad: int, total: int) -> bool:
    return bad >= max(settings.ALERT_FAILURE_MIN_COUNT, 1) and bad / total > settings.ALERT_FAILURE_RATE


@rule("webhook_failures", "Stripe webhooks failing")
def webhook_failures(now: datetime) -> list[Finding]:
    window = settings.ALERT_FAILURE_WINDOW_MINUTES
    events = StripeEvent.objects.filter(received_at__gte=now - timedelta(minutes=window)).aggregate(
        received=Count("id"), failed=Count("id", filter=Q(status=EventStatus.FAILED))
    )
    rejected = counters.total_minutes("webhook_rejected", minutes=window, now=now)
    bad, total = events["failed"] + rejected, events["received"] + rejected
    if not _failing(bad, total):
        return []
    return [Finding(f"{rate_text(bad, total)} Stripe webhooks rejected or failed in {window} min",
                    path("event_list", "?status=failed"))]


@rule("job_failures", "Outbound calls failing")
def job_failures(now: datetime) -> list[Finding]:
    window = settings.ALERT_FAILURE_WINDOW_MINUTES
    # The synced tools' calls: an outbound webhook receiver's failures are its owner's (the endpoint
    # is switched off after WEBHOOK_FAILING_DAYS), not Switchboard's outage.
    attempts = SyncAttempt.objects.filter(started_at__gte=now - timedelta(minutes=window),
                                          job__system__in=SYNCED_SYSTEMS).aggregate(
        total=Count("id"), failed=Count("id", filter=~Q(outcome="ok"))
    )
    bad, total = attempts["failed"], attempts["total"]
    if not _failing(bad, total):
        return []
    return [Finding(f"{rate_text(bad, total)} outbound job attempts failed in {window} min", path("job_list"))]


def system_name(system: str) -> str:
    """``CRM (HubSpot)``: the system as the founder calls it, and the tool behind it."""
    return f"{dict(System.choices).get(system, system)} ({provider_for(system).LABEL})"


@rule("system_down", "Outside system down")
def system_down(now: datetime) -> list[Finding]:
    """A system whose calls have failed as a whole (5xx, timeouts, rejected credentials) with no
    success since, for longer than ALERT_SYSTEM_DOWN_MINUTES: one finding per system."""
    cutoff = now - timedelta(minutes=settings.ALERT_SYSTEM_DOWN_MINUTES)
    findings = []
    for state in SystemState.objects.filter(failing_since__lte=cutoff, system__in=SYNCED_SYSTEMS):
        reason = state.last_failure_reason
        reason = ReasonCode(reason).label.lower() if reason in ReasonCode.values else (reason or "failing")
        held = (f"; its calls are held until {when(state.breaker_open_until, now)}"
                if state.breaker_open_until and state.breaker_open_until > now else "")
        findings.append(Finding(
            f"{system_name(state.system)} is down: no call has succeeded since {when(state.failing_since, now)} "
            f"({state.consecutive_failures} failed in a row, {reason}){held}",
            path("system_list"), key=state.system,
        ))
    return findings


@rule("backlog", "Work not draining")
def backlog(now: datetime) -> list[Finding]:
    """Outbound jobs due for longer than ALERT_BACKLOG_MINUTES that nobody has picked up: the
    workers are gone, stuck or far too slow. Paused systems are left out (they have their own
    queue item). Reads only waiting jobs, through the (status, next_attempt_at) index."""
    cutoff = now - timedelta(minutes=settings.ALERT_BACKLOG_MINUTES)
    late = SyncJob.objects.waiting().filter(next_attempt_at__lt=cutoff)
    paused = paused_switches()  # a disabled webhook endpoint's deliveries wait under its own switch
    if SystemState.ALL in paused:
        return []
    if paused:
        late = late.exclude(system__in=paused)
    oldest = late.order_by("next_attempt_at").values_list("pk", "system", "action", "next_attempt_at").first()
    if oldest is None:
        return []
    pk, system, action, due = oldest
    return [Finding(
        f"Outbound work is not draining: {count_of(late.count(), 'job')} due for over {settings.ALERT_BACKLOG_MINUTES} min "
        f"and not started; the oldest (#{pk} {system} {action}) has been due since {when(due, now)}",
        path("job_list", "?status=pending"),
    )]


@rule("no_webhook", "No Stripe webhooks")
def no_webhook(now: datetime) -> list[Finding]:
    minutes = settings.ALERT_NO_WEBHOOK_MINUTES
    last = StripeEvent.objects.order_by("-received_at").values_list("received_at", flat=True).first()
    if not minutes or last is None or now - last <= timedelta(minutes=minutes):  # off, not connected yet, or fine
        return []
    return [Finding(f"No Stripe webhook for over {minutes} min: the last arrived at {when(last, now)}",
                    path("event_list"))]


@rule("signature_failures", "Webhook signatures failing")
def signature_failures(now: datetime) -> list[Finding]:
    """A burst of signature failures: usually a webhook secret rotated in Stripe but not here."""
    window = settings.ALERT_SIGNATURE_WINDOW_MINUTES
    failed = sum(counters.total_minutes("webhook_rejected", r, minutes=window, now=now) for r in SIGNATURE_REASONS)
    if failed < settings.ALERT_SIGNATURE_FAILURES:
        return []
    return [Finding(f"{failed} Stripe webhooks failed signature checks in {window} min: compare "
                    "STRIPE_WEBHOOK_SECRETS with the endpoint's signing secret in Stripe", path("system_health"))]


@rule("signin_failures", "Sign-ins failing")
def signin_failures(now: datetime) -> list[Finding]:
    """Many failed sign-ins (password guessing, or a broken sign-in). At least
    ALERT_SIGNIN_MIN_FAILURES failures, so one typo among three sign-ins is not an incident."""
    window = settings.ALERT_SIGNIN_WINDOW_MINUTES
    failed = counters.total_minutes(SIGNIN, "failed", minutes=window, now=now)
    succeeded = counters.total_minutes(SIGNIN, "ok", minutes=window, now=now)
    total = failed + succeeded
    if failed < settings.ALERT_SIGNIN_MIN_FAILURES or failed / total <= settings.ALERT_SIGNIN_FAILURE_RATE:
        return []
    return [Finding(f"{rate_text(failed, total)} staff sign-ins failed in {window} min", path("staff_list"))]


_SILENT = {
    Heartbeat.WORKER: "No worker has shown life {since}: outbound jobs and Stripe events are not processed",
    Heartbeat.SCHEDULER: "The scheduler (celery beat) has shown no life {since}: a worker runs the sweeps "
                         "and alerts in its place; restart it",
}


@rule("heartbeat", "Background process missing")
def heartbeat(now: datetime) -> list[Finding]:
    """One finding per process silent for HEARTBEAT_STALE_SECONDS (one never seen: once this process has
    watched that long; until then it keeps what an evaluator that has watched longer already found)."""
    ages = heartbeat_ages(now)
    findings = []
    for name in heartbeats_stale(now):
        age = ages.get(name)
        if age is None and not watched_long_enough(now) and not _open_elsewhere("heartbeat", name):
            continue
        since = "yet" if age is None else f"since {when(now - timedelta(seconds=age), now)}"
        findings.append(Finding(_SILENT[name].format(since=since), path("system_health"), key=name))
    return findings


def _open_elsewhere(rule_name: str, key: str) -> bool:
    """Another evaluator (a worker started earlier) opened this incident: a process that cannot judge yet
    must not resolve it, or the next look would open it again and send a second message."""
    return Incident.objects.filter(rule=rule_name, key=key, resolved_at__isnull=True).exists()


@rule("dead_jobs", "Outbound jobs dead", noun="dead job")
def dead_jobs(now: datetime) -> list[Finding]:
    """The facts are the dead jobs' ids (set-aside ones are no longer dead): a job that dies while
    others are already reported is news of its own."""
    ids = [str(pk) for pk in SyncJob.objects.dead().order_by("-pk").values_list("pk", flat=True)[:MAX_FACTS]]
    if not ids:
        return []
    newest = SyncJob.objects.get(pk=ids[0])
    reason = newest.get_reason_code_display() or "failed"
    return [Finding(
        f"{count_of(SyncJob.objects.dead().count() if len(ids) == MAX_FACTS else len(ids), 'outbound job')} dead; newest: "
        f"#{newest.pk} {newest.system} {newest.action} ({reason})",
        path("job_list", "?status=dead"), facts=tuple(ids),
    )]


@rule("stripe_drift", "Differences with Stripe", noun="difference")
def stripe_drift(now: datetime) -> list[Finding]:
    ids = [str(pk) for pk in Drift.objects.open().order_by("-pk").values_list("pk", flat=True)[:MAX_FACTS]]
    if not ids:
        return []
    return [Finding(f"{count_of(len(ids), 'difference')} between Stripe and Switchboard", path("system_health"),
                    facts=tuple(ids))]


@rule("tool_drift", "Outside tools disagree with billing", noun="difference")
def tool_drift(now: datetime) -> list[Finding]:
    """One incident per system and kind of difference: a new kind of drift is news, another row of a
    kind already reported joins its incident."""
    findings = []
    for (system, kind), ids in sorted(tool_drift_open_by_kind().items()):
        label = DriftKind(kind).label.lower()
        findings.append(Finding(
            f"{count_of(len(ids), 'difference')} in {system_name(system)}: {label}", path("home"),
            key=f"{system}:{kind}", facts=tuple(str(pk) for pk in ids[:MAX_FACTS]),
        ))
    return findings
