"""Every action's outcome reaches the person as a toast: on the page a redirect lands on, or in the
HX-Trigger header of an htmx answer that is not a whole page."""

import json

import pytest
from django.contrib import messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django_htmx.middleware import HtmxDetails

from core.toasts import EVENT, HtmxMessagesMiddleware
from tests import helpers
from sync.models import JobStatus

pytestmark = pytest.mark.django_db


def _request(*, htmx: bool):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    request = RequestFactory().post("/somewhere/", **headers)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    request.htmx = HtmxDetails(request)
    return request


def _answer(request, response: HttpResponse, *said: tuple[int, str]) -> HttpResponse:
    def view(req):
        for level, text in said:
            messages.add_message(req, level, text)
        return response

    return HtmxMessagesMiddleware(view)(request)


def test_an_htmx_answer_carries_its_messages_as_toasts():
    response = _answer(_request(htmx=True), HttpResponse("<li>row</li>"),
                       (messages.SUCCESS, "Queued again"), (messages.ERROR, "The tool said no"))
    assert json.loads(response["HX-Trigger"])[EVENT] == [
        {"level": "success", "text": "Queued again"}, {"level": "danger", "text": "The tool said no"}]


def test_messages_sent_with_an_htmx_answer_do_not_wait_for_the_next_page():
    request = _request(htmx=True)
    answer = _answer(request, HttpResponse("ok"), (messages.INFO, "Saved"))
    request._messages.update(answer)  # what MessageMiddleware does next: keep what was not shown
    later = _request(htmx=False)
    later.COOKIES, later.session = {k: v.value for k, v in answer.cookies.items()}, request.session
    later._messages = FallbackStorage(later)
    assert list(messages.get_messages(later)) == []


def test_an_htmx_answer_keeps_the_events_it_already_triggers():
    answer = HttpResponse("ok")
    answer["HX-Trigger"] = json.dumps({"batch-progress": {"done": 3}})
    response = _answer(_request(htmx=True), answer, (messages.SUCCESS, "Done"))
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["batch-progress"] == {"done": 3} and trigger[EVENT][0]["text"] == "Done"


def test_a_client_redirect_leaves_the_messages_to_the_page_it_opens():
    request = _request(htmx=True)
    answer = HttpResponse()
    answer["HX-Redirect"] = "/customers/"
    response = _answer(request, answer, (messages.SUCCESS, "Merged"))
    assert not response.has_header("HX-Trigger")
    request._messages.update(response)
    later = _request(htmx=False)
    later.COOKIES, later.session = {k: v.value for k, v in response.cookies.items()}, request.session
    later._messages = FallbackStorage(later)
    assert [str(m) for m in messages.get_messages(later)] == ["Merged"]


def test_a_plain_request_leaves_the_messages_to_the_page():
    request = _request(htmx=False)
    response = _answer(request, HttpResponse("page"), (messages.SUCCESS, "Saved"))
    assert not response.has_header("HX-Trigger")
    assert [str(m) for m in messages.get_messages(request)] == ["Saved"]


def test_the_page_after_an_action_shows_its_outcome_as_a_toast(client, owner):
    job = helpers.dead_job()
    client.force_login(owner)
    page = client.post(reverse("job_retry", args=[job.pk]), follow=True).content.decode()
    job.refresh_from_db()
    assert job.status != JobStatus.DEAD
    assert 'class="sb-toast sb-toast-success">Queued again; it runs in a moment.</div>' in page
