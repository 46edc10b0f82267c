import io

import pytest
from django.db import connection
from django.core.management import CommandError, call_command

from config.settings import INSECURE_SECRET_KEY
from monitoring.checks import launch_checks

READY = dict(
    STRIPE_WEBHOOK_SECRETS=["whsec_live_secret"],
    SECRET_KEY="a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
    DEBUG=False,
    ALLOWED_HOSTS=["switchboard.example.com"],
    SECURE_SSL_REDIRECT=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
    SECURE_HSTS_SECONDS=31536000,
    STRIPE_API_KEY="sk_live_abc",
    STRIPE_LIVEMODE=True,
    ALERT_EMAILS=["ops@example.com"],
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    ALERT_SLACK_WEBHOOK_URL="",
    SYNC_PROVIDERS={"crm": "hubspot", "support": "zendesk", "community": "circle", "email": "kit"},
    HUBSPOT_ACCESS_TOKEN="pat-na1-token",
    ZENDESK_BASE_URL="https://acme.zendesk.com",
    ZENDESK_EMAIL="agent@acme.example",
    ZENDESK_API_TOKEN="zendesk-token",
    SUPPORT_WEBHOOK_SECRET="desk-secret",
    CIRCLE_API_TOKEN="circle-token",
    KIT_API_KEY="kit-key",
    METRICS_TOKEN="token",
)


def ids(settings, **changes) -> set[str]:
    for key, value in {**READY, **changes}.items():
        setattr(settings, key, value)
    found = {m.id for m in launch_checks()}
    if connection.vendor == "sqlite":  # this very test run: the database check has its own test below
        found.discard("switchboard.E006")
    return found


def test_a_complete_production_configuration_raises_nothing(settings):
    assert ids(settings) == set()


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
def test_the_database_check_fires_on_sqlite(settings):
    settings.DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "x"}}
    assert "switchboard.E006" in {m.id for m in launch_checks()}
    settings.DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "x"}}
    assert "switchboard.E006" not in {m.id for m in launch_checks()}


@pytest.mark.parametrize(
    ("change", "check_id"),
    [
        ({"STRIPE_WEBHOOK_SECRETS": []}, "switchboard.E001"),
        ({"SECRET_KEY": INSECURE_SECRET_KEY}, "switchboard.E002"),
        ({"DEBUG": True}, "switchboard.E003"),
        ({"ALLOWED_HOSTS": []}, "switchboard.E004"),
        ({"SECURE_SSL_REDIRECT": False}, "switchboard.E005"),
        ({"SECURE_HSTS_SECONDS": 0}, "switchboard.E005"),
        ({"STRIPE_API_KEY": "sk_test_abc"}, "switchboard.E007"),
        ({"STRIPE_LIVEMODE": False}, "switchboard.E007"),
        ({"STRIPE_API_KEY": "sk_test_abc", "STRIPE_LIVEMODE": False}, "switchboard.W001"),
        ({"ALERT_EMAILS": []}, "switchboard.W002"),
        ({"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}, "switchboard.W002"),
        ({"HUBSPOT_ACCESS_TOKEN": ""}, "switchboard.E008"),
        ({"SYNC_PROVIDERS": {**READY["SYNC_PROVIDERS"], "support": "intercom"}}, "switchboard.E008"),
        ({"SYNC_PROVIDERS": {**READY["SYNC_PROVIDERS"], "crm": "sandbox"}}, "switchboard.W003"),
        ({"METRICS_TOKEN": ""}, "switchboard.W004"),
        ({"SUPPORT_WEBHOOK_SECRET": ""}, "switchboard.W005"),
        ({"STRIPE_API_KEY": "", "STRIPE_LIVEMODE": False}, "switchboard.W006"),
    ],
)
def test_each_check_fires_on_its_misconfiguration(settings, change, check_id):
    assert check_id in ids(settings, **change)


def test_launch_check_lists_what_is_missing_and_what_it_breaks_and_fails(settings):
    ids(settings, STRIPE_WEBHOOK_SECRETS=[], METRICS_TOKEN="")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"\d critical items? missing: not ready to launch"):
        call_command("launch_check", stdout=out)
    text = out.getvalue()
    assert "MISSING Stripe webhook secret" in text and "every Stripe webhook is refused" in text
    assert "advice  Metrics token" in text
    assert "ok    Secret key" in text


def test_launch_check_passes_when_ready(settings):
    if connection.vendor == "sqlite":
        pytest.skip("this test run itself uses SQLite, which launch_check rightly calls critical")
    ids(settings)
    out = io.StringIO()
    call_command("launch_check", stdout=out)
    assert "Ready to launch." in out.getvalue()


def test_a_tool_without_credentials_is_critical_and_sandbox_only_advice_when_chosen(settings):
    crm = {**READY["SYNC_PROVIDERS"], "crm": "hubspot"}
    assert ids(settings, SYNC_PROVIDERS=crm, HUBSPOT_ACCESS_TOKEN="") == {"switchboard.E008"}
    chosen = {**READY["SYNC_PROVIDERS"], "crm": "sandbox"}
    assert ids(settings, SYNC_PROVIDERS=chosen, HUBSPOT_ACCESS_TOKEN="") == {"switchboard.W003"}


def test_the_desk_secret_is_advised_only_when_the_desk_is_really_connected(settings):
    # Zendesk chosen without credentials runs in sandbox: no status update can come from it.
    found = ids(settings, SUPPORT_WEBHOOK_SECRET="", ZENDESK_API_TOKEN="")
    assert "switchboard.E008" in found and "switchboard.W005" not in found
    assert "switchboard.W005" not in ids(settings, SUPPORT_WEBHOOK_SECRET="",
                                         SYNC_PROVIDERS={**READY["SYNC_PROVIDERS"], "support": "sandbox"})


def test_launch_check_names_the_missing_credential_and_what_simulated_jobs_mean(settings):
    ids(settings, HUBSPOT_ACCESS_TOKEN="")
    out = io.StringIO()
    with pytest.raises(CommandError, match="critical item"):
        call_command("launch_check", stdout=out)
    text = out.getvalue()
    assert "MISSING Outbound tools have credentials: would run in sandbox: crm (HubSpot needs HUBSPOT_ACCESS_TOKEN)" in text
    assert "only pretend to succeed (simulated)" in text
