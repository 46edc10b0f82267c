"""A bulk retry's progress page opens for anyone allowed to see sync jobs, from any browser."""

import pytest
from django.test import Client

from sync.models import JobStatus
from tests.factories import CustomerFactory, SyncJobFactory

pytestmark = pytest.mark.django_db


def retry_selected(client, jobs) -> str:
    response = client.post("/sync/jobs/retry-selected/", {"job": [j.pk for j in jobs]})
    assert response.status_code == 302, response.content
    return response["Location"]


def test_the_progress_link_works_in_another_session_and_for_another_person(client, owner, finance):
    customer = CustomerFactory()
    jobs = [SyncJobFactory(customer=customer, system="crm", status=JobStatus.DEAD) for _ in range(3)]
    client.force_login(owner)
    link = retry_selected(client, jobs)
    assert client.get(link).status_code == 200
    for user in (owner, finance):  # a new browser: no session shared with the one that retried
        other = Client()
        other.force_login(user)
        page = other.get(link)
        assert page.status_code == 200, user
        assert "of 3</strong> finished" in page.content.decode()


def test_an_unknown_batch_is_not_found(client, owner):
    client.force_login(owner)
    assert client.get("/sync/batches/999999/").status_code == 404
    assert client.get("/sync/batches/unknown/").status_code == 404


def test_retry_selected_shows_only_where_there_is_a_job_to_tick(client, support):
    customer = CustomerFactory()
    SyncJobFactory(customer=customer, system="crm", status=JobStatus.DEAD)
    client.force_login(support)
    html = client.get("/sync/jobs/").content.decode()
    assert "Retry selected" not in html and 'name="job"' not in html
    SyncJobFactory(customer=customer, system="support", status=JobStatus.DEAD)
    html = client.get("/sync/jobs/").content.decode()
    assert "Retry selected" in html and html.count('name="job"') == 1
