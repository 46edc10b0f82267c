"""Launch checks: what a production install needs, as Django system checks (``check --deploy``)
and as a human checklist (``manage.py launch_check``). One list serves both."""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core import checks

from core.keys import INSECURE_SECRET_KEY, is_live_key, is_test_key
from sync.providers import SANDBOX, configured_provider, missing_credentials, provider_for

CRITICAL, ADVICE = "critical", "advice"

_CONSOLE_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


@dataclass(frozen=True)
class LaunchItem:
    id: str
    level: str
    title: str
    problem: Callable[[], str]  # "" when fine, else what is wrong
    breaks: str


def _stripe_mode() -> str:
    key = settings.STRIPE_API_KEY
    if not key:
        return ""
    live_key = is_live_key(key)
    if settings.STRIPE_LIVEMODE and not live_key:
        return "STRIPE_LIVEMODE is on but STRIPE_API_KEY is a test-mode key"
    if not settings.STRIPE_LIVEMODE and live_key:
        return "STRIPE_API_KEY is a live key but STRIPE_LIVEMODE is off: live events would be ignored"
    return ""


def _test_key_in_production() -> str:
    key = settings.STRIPE_API_KEY
    return "STRIPE_API_KEY is a test-mode key" if is_test_key(key) else ""


def _https() -> str:
    off = [
        name
        for name in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
        if not getattr(settings, name, False)
    ]
    if not getattr(settings, "SECURE_HSTS_SECONDS", 0):
        off.append("SECURE_HSTS_SECONDS")
    return f"{', '.join(off)} off" if off else ""


def _alert_channel() -> str:
    if not settings.ALERT_EMAILS and not settings.ALERT_SLACK_WEBHOOK_URL:
        return "neither ALERT_EMAILS nor ALERT_SLACK_WEBHOOK_URL is set"
    if settings.ALERT_EMAILS and settings.EMAIL_BACKEND in _CONSOLE_BACKENDS:
        return f"ALERT_EMAILS is set but EMAIL_URL sends nowhere ({settings.EMAIL_BACKEND.rsplit('.', 2)[-2]})"
    return ""


def _tools_without_credentials() -> str:
    """Systems whose tool is chosen, or left at its default, without the credentials it needs:
    they would run in sandbox, their jobs succeeding without reaching the tool."""
    missing = []
    for system in settings.SYNC_PROVIDERS:
        tool = configured_provider(system)
        if absent := missing_credentials(tool):
            missing.append(f"{system} ({tool.LABEL} needs {', '.join(absent)})")
    return "would run in sandbox: " + "; ".join(missing) if missing else ""


def _sandbox_chosen() -> str:
    chosen = [system for system, tool in settings.SYNC_PROVIDERS.items() if tool == SANDBOX]
    if not chosen:
        return ""
    names = ", ".join(f"SYNC_{system.upper()}_PROVIDER=sandbox" for system in chosen)
    return f"{', '.join(chosen)} {'runs' if len(chosen) == 1 else 'run'} in sandbox by choice ({names})"


def _webhook_secrets() -> str:
    # Only a tool that really serves a system sends to its webhook (sandbox sends nothing).
    unset = dict.fromkeys(
        secret
        for secret in (getattr(provider_for(system), "WEBHOOK_SECRET", "") for system in settings.SYNC_PROVIDERS)
        if secret and not getattr(settings, secret, "")
    )
    return f"{', '.join(unset)} {'is' if len(unset) == 1 else 'are'} not set" if unset else ""


ITEMS = [
    LaunchItem("switchboard.E001", CRITICAL, "Stripe webhook secret",
               lambda: "" if settings.STRIPE_WEBHOOK_SECRETS else "STRIPE_WEBHOOK_SECRETS is empty",
               "every Stripe webhook is refused, so nothing downstream learns about payments"),
    LaunchItem("switchboard.E002", CRITICAL, "Secret key",
               lambda: "SECRET_KEY is the development default" if settings.SECRET_KEY == INSECURE_SECRET_KEY else "",
               "sessions and password resets can be forged"),
    LaunchItem("switchboard.E003", CRITICAL, "Debug pages off",
               lambda: "DEBUG is on" if settings.DEBUG else "",
               "error pages show code, settings and data to anyone"),
    LaunchItem("switchboard.E004", CRITICAL, "Allowed hosts",
               lambda: "" if settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS else "ALLOWED_HOSTS is empty or '*'",
               "the app answers for any host name (host header attacks) or for none"),
    LaunchItem("switchboard.E005", CRITICAL, "HTTPS", _https,
               "staff sessions and passwords can travel in clear text"),
    LaunchItem("switchboard.E006", CRITICAL, "PostgreSQL database",
               lambda: "the database is SQLite" if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") else "",
               "one writer at a time and a file on one disk: not for production load or backups"),
    LaunchItem("switchboard.E007", CRITICAL, "Stripe mode matches the key", _stripe_mode,
               "events of the wrong mode are stored but never applied"),
    LaunchItem("switchboard.E008", CRITICAL, "Outbound tools have credentials", _tools_without_credentials,
               "those systems are never updated: their jobs only pretend to succeed (simulated). Set the "
               "credentials, or choose sandbox on purpose with SYNC_<SYSTEM>_PROVIDER=sandbox"),
    LaunchItem("switchboard.W001", ADVICE, "Live Stripe key", _test_key_in_production,
               "fine for a staging install; a production install sees no real payments"),
    LaunchItem("switchboard.W002", ADVICE, "Alert channel", _alert_channel,
               "incidents (dead jobs, silent webhooks, a stopped worker) reach nobody"),
    LaunchItem("switchboard.W003", ADVICE, "Every system connected", _sandbox_chosen,
               "those systems are not updated: their jobs are simulated, to be sent with replay_simulated "
               "once the tool is connected"),
    LaunchItem("switchboard.W005", ADVICE, "Webhook secrets", _webhook_secrets,
               "the tools' webhooks are refused (the support desk's status updates), so ticket status in "
               "Switchboard goes stale"),
    LaunchItem("switchboard.W006", ADVICE, "Stripe API key",
               lambda: "" if settings.STRIPE_API_KEY else "STRIPE_API_KEY is not set",
               "refunds cannot be issued and the daily reconciliation with Stripe does not run"),
    LaunchItem("switchboard.W004", ADVICE, "Metrics token",
               lambda: "" if settings.METRICS_TOKEN else "METRICS_TOKEN is not set",
               "/metrics stays closed to your monitoring"),
]


@checks.register(checks.Tags.security, deploy=True)
def launch_checks(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    messages = []
    for item in ITEMS:
        problem = item.problem()
        if problem:
            kind = checks.Error if item.level == CRITICAL else checks.Warning
            messages.append(kind(f"{item.title}: {problem}.", hint=f"Otherwise {item.breaks}.", id=item.id))
    return messages
