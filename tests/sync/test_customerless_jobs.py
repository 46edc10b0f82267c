"""Jobs of no customer yet (a desk ticket for someone who is not a customer): screens, retries, the sweeper,
and what each desk adapter does when such a ticket is handed to a customer."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from customers.models import System
from sync.models import JobStatus, ReasonCode, SyncJob
from sync.services import job_retry, jobs_sweep
from tests.factories import CustomerFactory, SyncJobFactory
from tests.sync import fakes
from tests.sync.helpers import run

pytestmark = pytest.mark.django_db

REQUESTER = {"name": "Sam Stranger", "email": "sam@newcomer.example"}


def customerless_job(**fields) -> SyncJob:
    return SyncJobFactory(
        customer=None, system=System.SUPPORT, action="create_ticket",
        idempotency_key="form:tok:ticket-7:support:create_ticket",
        payload={"ticket_id": 7, "subject": "Cannot log in", "body": "Help", "requester": REQUESTER,
                 "tags": ["unknown-customer"], "priority": "normal"},
        **fields,
    )


@pytest.mark.parametrize(("role", "detail", "retry"), [
    ("owner", 200, 302), ("finance", 200, 403), ("support", 200, 302), ("norole", 403, 403),
])
def test_each_role_sees_a_customerless_job_as_no_customer_yet_never_none(client, request, role, detail, retry):
    job = customerless_job(status=JobStatus.DEAD, reason_code=ReasonCode.UNAVAILABLE, last_error="down")
    client.force_login(request.getfixturevalue(role))
    pages = [reverse("job_detail", args=[job.pk]), reverse("job_list"), reverse("job_list") + "?customer=none"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == detail, url
        if detail == 200:
            html = response.content.decode()
            assert "No customer yet — s…@newcomer.example" in html and f"#{job.pk} " in html
            assert "None" not in html and "sam@newcomer.example" not in html
    assert client.post(reverse("job_retry", args=[job.pk])).status_code == retry


def test_the_job_log_filters_jobs_of_no_customer(client, owner):
    job = customerless_job()
    other = SyncJobFactory(customer=CustomerFactory(), system=System.SUPPORT)
    client.force_login(owner)
    html = client.get(reverse("job_list"), {"customer": "none"}).content.decode()
    assert f"#{job.pk} " in html and f"#{other.pk} " not in html


def test_a_customerless_job_is_swept_and_retried_like_any_other(serve, support, django_capture_on_commit_callbacks):
    desk = serve(fakes.Zendesk())
    desk.force = (503, {"error": "down"})
    job = customerless_job(next_attempt_at=timezone.now())
    jobs_sweep()  # woken by the sweeper (tasks run inline in tests)
    job.refresh_from_db()
    assert job.status == JobStatus.RETRYING and job.attempts == 1
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.DEAD)
    desk.force = None
    with django_capture_on_commit_callbacks(execute=True):
        job_retry(job=SyncJob.objects.get(pk=job.pk), actor=support)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.customer is None
    assert desk.tickets[0]["requester"] == REQUESTER and desk.tickets[0]["external_id"] == job.idempotency_key
    retried = AuditEvent.objects.get(action="sync.job_retry")
    assert retried.customer is None


def test_an_intercom_ticket_for_a_requester_names_the_lead_made_for_their_email_and_name(serve, settings):
    # (handing such a ticket over once linked: tests/support/test_unknown_senders.py, for both desks)
    intercom = serve(fakes.Intercom())
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "support": "intercom"}
    job = customerless_job()
    assert run(job) == "succeeded"
    [lead] = intercom.contacts.values()
    assert (lead["role"], lead["email"], lead["name"]) == ("lead", "sam@newcomer.example", REQUESTER["name"])
    assert intercom.tickets[0]["contacts"] == [{"id": lead["id"]}]


def test_a_dead_customerless_job_shows_in_the_queue_without_a_customer(client, support):
    job = customerless_job(status=JobStatus.DEAD, reason_code=ReasonCode.VALIDATION, last_error="Requester invalid",
                           finished_at=timezone.now())
    client.force_login(support)
    html = client.get("/").content.decode()
    assert reverse("job_detail", args=[job.pk]) in html and "Requester invalid" in html
    assert "None" not in html


def test_support_retries_a_dead_customerless_job_from_the_queue(client, support, serve, django_capture_on_commit_callbacks):
    desk = serve(fakes.Zendesk())
    job = customerless_job(status=JobStatus.DEAD, reason_code=ReasonCode.UNAVAILABLE, last_error="down",
                           finished_at=timezone.now())
    client.force_login(support)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("queue_retry", args=[job.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and len(desk.tickets) == 1
