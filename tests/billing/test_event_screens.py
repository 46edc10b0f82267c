"""The webhook event log: a payload as each role may see it, filtering, replaying, and paging by id."""

import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from billing.models import EventStatus
from tests import helpers

pytestmark = pytest.mark.django_db


def test_support_sees_the_payload_redacted_and_finance_in_full(client, support, finance):
    event = helpers.failed_event()
    client.force_login(support)
    html = client.get(reverse("event_detail", args=[event.pk])).content.decode()
    assert "ada@example.com" not in html and "Personal data redacted" in html
    client.force_login(finance)
    assert "ada@example.com" in client.get(reverse("event_detail", args=[event.pk])).content.decode()


def test_an_event_that_changed_nothing_says_so_in_words_not_python(client, owner):
    event = helpers.failed_event()
    client.force_login(owner)
    html = client.get(reverse("event_detail", args=[event.pk])).content.decode()
    effects = html[html.index('id="effects"'):]
    assert "Nothing written." in effects and "No status changed." in effects and "No outbound job." in effects
    assert not re.search(r"\bNone\b", re.sub(r"<[^>]+>", " ", html))


def test_event_list_filters_by_type_and_status(client, owner):
    failed = helpers.failed_event()
    ok = helpers.failed_event(type="invoice.paid", status=EventStatus.PROCESSED)
    client.force_login(owner)
    html = client.get(reverse("event_list"), {"status": "failed"}).content.decode()
    assert failed.stripe_id in html and ok.stripe_id not in html
    html = client.get(reverse("event_list"), {"type": "invoice.paid"}).content.decode()
    assert ok.stripe_id in html and failed.stripe_id not in html


def test_replaying_a_failed_event_processes_it_again_and_is_audited(client, finance):
    event = helpers.failed_event()
    client.force_login(finance)
    assert client.post(reverse("event_replay", args=[event.pk])).status_code == 302
    event.refresh_from_db()
    assert event.attempts >= 2
    assert AuditEvent.objects.filter(action="event.replayed", actor=finance).exists()


def test_replay_asks_first_on_the_events_page_and_in_the_queue(client, finance):
    event = helpers.failed_event()
    client.force_login(finance)
    page = client.get(reverse("event_detail", args=[event.pk])).content.decode()
    replay = page.split(f'action="{reverse("event_replay", args=[event.pk])}"')[1].split(">")[0]
    assert 'hx-confirm="Apply this webhook event again?' in replay
    home = client.get(reverse("home")).content.decode()
    row = home.split(f'action="{reverse("queue_replay", args=[event.pk])}"')[1].split(">")[0]
    assert 'hx-confirm="Apply this webhook event again?' in row


@pytest.mark.parametrize("padding_ids", [0, 150])
def test_the_event_log_pages_by_id_without_gaps_or_repeats(client, owner, padding_ids):
    # ids of every length: a cursor's encoding must survive the trip through a link whatever the id
    for _ in range(padding_ids):
        helpers.failed_event().delete()
    events = [helpers.failed_event() for _ in range(60)]
    client.force_login(owner)
    first = client.get(reverse("event_list")).content.decode()
    cursor = re.search(r'cursor=([^"&]+)', first).group(1)
    second = client.get(reverse("event_list"), {"cursor": cursor}).content.decode()
    seen = [e.stripe_id for e in events if e.stripe_id in first] + [e.stripe_id for e in events if e.stripe_id in second]
    assert len(seen) == len(set(seen)) == 60
