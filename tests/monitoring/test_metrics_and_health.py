from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import StripeEvent
from customers.templatetags.sb import seconds
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


def test_event_delays_read_as_durations_and_the_doors_own_part_is_shown_apart(client, owner):
    """Events Stripe created days ago (an outage, a replay) and applied in seconds: the page says both,
    in units a person reads, never a seven-digit count of seconds."""
    now = timezone.now()
    events = StripeEventFactory.create_batch(3, status="processed", created=now - timedelta(days=12), processed_at=now)
    StripeEvent.objects.filter(pk__in=[e.pk for e in events]).update(received_at=now - timedelta(seconds=2))
    client.force_login(owner)
    page = client.get("/system/health/").content.decode()
    ours = page.split("Received → processed p95</th>")[1].split("</tr>")[0]
    theirs = page.split("(Stripe's delivery delay included)</span></div></th>")[1].split("</tr>")[0]
    assert "<td>2.0 s</td>" in ours
    assert "<td>12.0 d</td>" in theirs
    assert "None" not in page and "set_aside" not in page.split('id="sync-title"')[1]


@pytest.mark.parametrize("value, shown", [(None, "—"), (0.035, "35 ms"), (0.42, "420 ms"), (4.24, "4.2 s"), (119.0, "119.0 s"), (600, "10 min"),
                                          (3 * 3600, "3.0 h"), (12.25 * 86400, "12.2 d")])
def test_durations_read_in_the_unit_that_fits(value, shown):
    assert seconds(value) == shown
