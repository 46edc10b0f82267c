"""Production mode refuses to start half-configured, and passes Django's deploy checks when complete."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

COMPLETE = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k8$Zr2!pQ7vW0xLm4nB6cT9yH1jF3gD5sA8eR0uI2oP4aS6dF8gH0jK2lZ4xC6v",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/switchboard",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "ALLOWED_HOSTS": "switchboard.example.com",
    "STRIPE_WEBHOOK_SECRETS": "whsec_test_secret_for_checks",
    "ALERT_SLACK_WEBHOOK_URL": "https://hooks.example.com/alerts",
    "METRICS_TOKEN": "a-long-random-metrics-token",
    "STRIPE_API_KEY": "sk_live_checks_only_never_called",
    "HUBSPOT_ACCESS_TOKEN": "pat-na1-checks-only",
    "ZENDESK_SUBDOMAIN": "acme",
    "ZENDESK_EMAIL": "agent@acme.example",
    "ZENDESK_API_TOKEN": "zendesk-checks-only",
    "SUPPORT_WEBHOOK_SECRET": "desk-checks-only",
    "CIRCLE_API_TOKEN": "circle-checks-only",
    "KIT_API_KEY": "kit-checks-only",
}


def run_manage(env_overrides: dict[str, str | None], *args: str) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never has it.
    dropped = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in COMPLETE and k not in dropped}
    env.update({k: v for k, v in COMPLETE.items()})
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    # Inside this test process's data folder: each of `make test`'s processes has its own.
    env["SWITCHBOARD_DATA_DIR"] = str(Path(os.environ.get("SWITCHBOARD_DATA_DIR") or ROOT / "var") / "test-production")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "variable", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "STRIPE_WEBHOOK_SECRETS"]
)
def test_production_without_a_required_variable_stops_with_one_line_naming_it(variable):
    result = run_manage({variable: None}, "check")
    assert result.returncode != 0
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr


def test_production_rejects_the_development_secret_key():
    from config.settings import INSECURE_SECRET_KEY

    result = run_manage({"SECRET_KEY": INSECURE_SECRET_KEY}, "check")
    assert result.returncode != 0
    assert "SECRET_KEY has an insecure default value" in result.stderr


def test_complete_production_environment_passes_check_deploy():
    result = run_manage({}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_hubspot_credentials_fails_launch_check_and_check_deploy():
    result = run_manage({"HUBSPOT_ACCESS_TOKEN": None}, "launch_check")
    assert result.returncode != 0
    assert "MISSING Outbound tools have credentials: would run in sandbox: crm (HubSpot needs HUBSPOT_ACCESS_TOKEN)" in (
        result.stdout), result.stdout + result.stderr
    assert "not ready to launch" in result.stderr
    deploy = run_manage({"HUBSPOT_ACCESS_TOKEN": None}, "check", "--deploy")
    assert deploy.returncode != 0 and "switchboard.E008" in deploy.stderr, deploy.stdout + deploy.stderr


def test_production_with_sandbox_chosen_explicitly_passes_launch_check_with_advice():
    result = run_manage({"HUBSPOT_ACCESS_TOKEN": None, "SYNC_CRM_PROVIDER": "sandbox"}, "launch_check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "advice  Every system connected: crm runs in sandbox by choice (SYNC_CRM_PROVIDER=sandbox)" in result.stdout
    assert "Ready to launch." in result.stdout


def test_production_logs_are_json_lines_with_the_correlation_id():
    import json

    code = (
        "import structlog;"
        "structlog.contextvars.bind_contextvars(correlation_id='abc123');"
        "structlog.get_logger('switchboard').warning('stripe_event.failed', event_id='evt_1')"
    )
    result = run_manage({}, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["event"] == "stripe_event.failed" and line["correlation_id"] == "abc123" and line["level"] == "warning"
