"""The owner's endpoint screens: a secret shown once, rotation, switching off and on, test and resend,
each audited; every form carries CSRF."""

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from sync.models import JobStatus, SyncJob, SystemState
from tests.factories import SyncJobFactory
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def _register(client, **extra):
    data = {"kind": "standard", "url": "https://hooks.example.com/in", "description": "Pipedrive sync",
            "event_types": ["payment.failed", "dispute.opened"], **extra}
    return client.post(reverse("webhook_endpoint_new"), data)


def test_the_secret_is_shown_once_when_the_endpoint_is_registered(client, owner):
    client.force_login(owner)
    response = _register(client)
    endpoint = Endpoint.objects.get()
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert endpoint.event_types == ["dispute.opened", "payment.failed"]
    again = client.get(reverse("webhook_endpoint", args=[endpoint.pk])).content.decode()
    assert endpoint.secret not in again and "Pipedrive sync" in again
    assert AuditEvent.objects.filter(action="webhooks.endpoint_create").exists()
    assert endpoint.secret not in str(list(AuditEvent.objects.values_list("summary", "changes")))


def test_an_endpoint_needs_an_address_and_an_event(client, owner, settings):
    settings.PRODUCTION = True
    client.force_login(owner)
    assert _register(client, url="http://hooks.example.com/in").status_code == 422
    assert _register(client, event_types=[]).status_code == 422
    assert not Endpoint.objects.exists()


def test_rotating_shows_the_new_secret_once_and_the_old_one_keeps_signing(client, owner):
    client.force_login(owner)
    _register(client)
    endpoint = Endpoint.objects.get()
    old = endpoint.secret
    response = client.post(reverse("webhook_endpoint_rotate", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.secret in response.content.decode()
    assert endpoint.previous_secret == old and endpoint.previous_secret_until is not None
    assert AuditEvent.objects.filter(action="webhooks.secret_rotate").exists()


def test_switching_off_holds_its_deliveries_and_switching_on_releases_them(client, owner):
    client.force_login(owner)
    _register(client)
    endpoint = Endpoint.objects.get()
    client.post(reverse("webhook_endpoint_disable", args=[endpoint.pk]), {"reason": "Receiver moving"})
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "Receiver moving"
    assert SystemState.objects.get(system=endpoint.system).paused
    client.post(reverse("webhook_endpoint_enable", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.enabled and not SystemState.objects.get(system=endpoint.system).paused
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "webhooks.endpoint_disable", "webhooks.endpoint_enable"}


def test_a_test_event_and_a_resend_are_new_jobs_with_the_right_webhook_id(client, owner):
    client.force_login(owner)
    _register(client)
    endpoint = Endpoint.objects.get()
    client.post(reverse("webhook_endpoint_test", args=[endpoint.pk]))
    test = SyncJob.objects.get(system=endpoint.system)
    assert test.payload["event_type"] == "switchboard.test" and test.payload["message_id"].startswith("msg_test_")
    dead = SyncJobFactory(system=endpoint.system, action="deliver", status=JobStatus.DEAD,
                          idempotency_key="webhook:x:msg_1",
                          payload={"message_id": "msg_1", "event_type": "payment.failed", "body": "{}"})
    client.post(reverse("webhook_delivery_resend", args=[endpoint.pk, dead.pk]))
    resent = SyncJob.objects.filter(system=endpoint.system).exclude(pk__in=[test.pk, dead.pk]).get()
    assert resent.payload == dead.payload and resent.status == JobStatus.PENDING
    dead.refresh_from_db()
    assert dead.status == JobStatus.SET_ASIDE and f"#{resent.pk}" in dead.set_aside_note  # out of the dead alert
    assert AuditEvent.objects.filter(action="webhooks.delivery_resend").exists()
    page = client.get(reverse("webhook_endpoint", args=[endpoint.pk])).content.decode()
    assert "msg_1" in page and "switchboard.test" in page


def test_a_slack_route_keeps_its_notices_threshold_and_fields(client, owner):
    client.force_login(owner)
    client.post(reverse("webhook_endpoint_new"), {
        "kind": "slack", "url": "https://hooks.slack.com/services/T0/B0/secretpath", "description": "#revenue",
        "notices": ["payment_failed", "refund_above_threshold"], "refund_threshold": "250.00",
        "personal_fields": ["name"]})
    route = Endpoint.objects.get()
    assert route.is_slack and route.secret == "" and route.refund_threshold_cents == 25000
    assert route.notices == ["payment_failed", "refund_above_threshold"] and route.personal_fields == ["name"]
    page = client.get(reverse("webhook_endpoint", args=[route.pk])).content.decode()
    assert "secretpath" not in page  # a Slack webhook's path is its secret


def test_the_forms_refuse_a_post_without_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert _register(client).status_code == 403
    assert not Endpoint.objects.exists()


def test_a_switched_off_endpoint_is_not_offered_as_a_paused_system_to_resume(client, owner):
    client.force_login(owner)
    _register(client)
    endpoint = Endpoint.objects.get()
    client.post(reverse("webhook_endpoint_disable", args=[endpoint.pk]), {"reason": "Receiver moving"})
    home = client.get(reverse("home"))
    assert home.status_code == 200 and endpoint.system not in home.content.decode()


def test_a_dead_delivery_can_be_set_aside_with_a_note_and_leaves_the_dead_jobs(client, owner):
    client.force_login(owner)
    _register(client)
    endpoint = Endpoint.objects.get()
    dead = SyncJobFactory(system=endpoint.system, action="deliver", status=JobStatus.DEAD,
                          payload={"message_id": "msg_2", "event_type": "payment.failed", "body": "{}"})
    url = reverse("webhook_delivery_set_aside", args=[endpoint.pk, dead.pk])
    client.post(url, {"note": ""})
    dead.refresh_from_db()
    assert dead.status == JobStatus.DEAD  # a note is required
    client.post(url, {"note": "The receiver never handled refunds"})
    dead.refresh_from_db()
    assert dead.status == JobStatus.SET_ASIDE and dead.set_aside_note == "The receiver never handled refunds"
    assert AuditEvent.objects.filter(action="sync.job_set_aside").exists()


def _dead_delivery(endpoint: Endpoint) -> SyncJob:
    return SyncJobFactory(system=endpoint.system, action="deliver", status=JobStatus.DEAD,
                          idempotency_key=f"webhook:{endpoint.pk}:msg_dead", last_error="503 from the receiver",
                          payload={"message_id": "msg_dead", "event_type": "payment.failed", "body": "{}"})


def test_a_delivery_that_gave_up_is_on_the_owners_queue_and_resent_from_there(client, owner):
    client.force_login(owner)
    _register(client)
    endpoint = Endpoint.objects.get()
    dead = _dead_delivery(endpoint)
    home = client.get(reverse("home")).content.decode()
    assert "Webhook deliveries that gave up" in home and "503 from the receiver" in home
    assert reverse("queue_resend_delivery", args=[dead.pk]) in home
    response = client.post(reverse("queue_resend_delivery", args=[dead.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Resent as job" in response.content.decode()
    dead.refresh_from_db()
    resent = SyncJob.objects.exclude(pk=dead.pk).get(system=endpoint.system, status=JobStatus.PENDING)
    assert dead.status == JobStatus.SET_ASIDE and resent.payload["message_id"] == "msg_dead"
    assert "Webhook deliveries that gave up" not in client.get(reverse("home")).content.decode()


def test_only_the_owner_sees_or_resends_dead_deliveries(client, owner, finance, support):
    client.force_login(owner)
    _register(client)
    dead = _dead_delivery(Endpoint.objects.get())
    for person in (finance, support):
        client.force_login(person)
        assert "Webhook deliveries that gave up" not in client.get(reverse("home")).content.decode()
        assert client.post(reverse("queue_resend_delivery", args=[dead.pk])).status_code == 403
    dead.refresh_from_db()
    assert dead.status == JobStatus.DEAD
