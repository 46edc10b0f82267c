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


def test_the_health_screen_says_whether_the_broker_answers(client, owner):
    client.force_login(owner)
    assert '<td id="broker-state">answers</td>' in client.get("/system/health/").content.decode()


def test_the_health_screen_names_a_broker_that_does_not_answer(client, owner, broker_down):
    client.force_login(owner)
    assert "does not answer" in client.get("/system/health/").content.decode()
