import pytest

from sync.models import JobStatus
from tests.factories import StripeEventFactory, SyncJobFactory

pytestmark = pytest.mark.django_db
TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_metrics_refuse_a_missing_token(client, token):
    response = client.get("/metrics")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_metrics_refuse_a_wrong_token(client, token):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope").status_code == 401


def test_metrics_are_off_until_a_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_metrics_speak_prometheus_text_with_the_same_counts(client, token):
    SyncJobFactory.create_batch(2, status=JobStatus.DEAD)
    SyncJobFactory(status=JobStatus.PENDING, system="email")
    StripeEventFactory.create_batch(3, status="processed")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert 'switchboard_sync_jobs{status="dead",system="crm"} 2.0' in body
    assert 'switchboard_sync_jobs{status="pending",system="email"} 1.0' in body
    assert 'switchboard_stripe_events_total{status="processed"} 3.0' in body
    assert "switchboard_event_processing_seconds_bucket" in body
    assert 'switchboard_sync_lag_seconds_count{system="crm"}' in body


def test_the_health_screen_shows_the_numbers_to_the_owner(client, owner):
    SyncJobFactory.create_batch(2, status=JobStatus.DEAD)
    StripeEventFactory.create_batch(4, status="processed", secret_index=1)
    client.force_login(owner)
    response = client.get("/system/health/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "dead jobs <strong>2</strong>" in page
    assert "<td>#2</td><td>4</td>" in page  # the second configured secret verified all four
    assert "<polyline" in page


def test_the_health_screen_needs_no_more_queries_with_more_data(client, owner, django_assert_max_num_queries):
    client.force_login(owner)
    SyncJobFactory.create_batch(3, status=JobStatus.DEAD)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get("/system/health/")
    SyncJobFactory.create_batch(30, status=JobStatus.DEAD)
    StripeEventFactory.create_batch(30, status="processed")
    with django_assert_max_num_queries(len(few)):
        client.get("/system/health/")


def test_every_reason_the_door_refuses_for_is_exported(client, token, settings):
    from billing.webhooks import REJECT_REASONS
    from tests import stripe_events as se

    settings.STRIPE_WEBHOOK_SECRETS = []  # a signed delivery to an install without a secret
    assert se.post(client, se.event("customer.created", se.customer("cus_m1"))).status_code == 400
    body = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    assert 'switchboard_webhooks_rejected_24h{reason="not_configured"} 1.0' in body
    for reason in REJECT_REASONS:
        assert f'switchboard_webhooks_rejected_24h{{reason="{reason}"}}' in body
