import json

import pytest

from monitoring.heartbeats import heartbeat_record
# The outbound fakes and their settings, for the outage tests here.
from tests.sync.conftest import empty_rate_buckets, serve, sync_settings  # noqa: F401


@pytest.fixture
def channels(settings, httpserver):
    """Both channels on: email (Django's test outbox) and a Slack-compatible webhook on 127.0.0.1."""
    settings.ALERT_EMAILS = ["founder@example.com"]
    settings.ALERT_SLACK_WEBHOOK_URL = httpserver.url_for("/hooks/alerts")
    settings.ALERT_NO_WEBHOOK_MINUTES = 0
    httpserver.expect_request("/hooks/alerts", method="POST").respond_with_data("ok")
    beat()
    return httpserver


def beat() -> None:
    """Both background processes show life (else the heartbeat rule joins every test)."""
    heartbeat_record(name="worker")
    heartbeat_record(name="scheduler")


def slack_texts(httpserver) -> list[str]:
    return [json.loads(request.data)["text"] for request, _ in httpserver.log]
