"""After a POST every view answers with one helper: htmx follows HX-Redirect, a browser a 302. Both doors
that take posts from outside refuse an oversized body with one helper, unread when it says its size."""

import io

from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from core.http import body_too_large, redirect_after_post


def _post(htmx: bool):
    request = RequestFactory().post("/somewhere/", HTTP_HX_REQUEST="true" if htmx else None)
    if not htmx:
        request.META.pop("HTTP_HX_REQUEST", None)
    request.htmx = HtmxDetails(request)
    return request


def test_a_plain_form_post_is_redirected():
    response = redirect_after_post(_post(htmx=False), "/customers/")
    assert (response.status_code, response["Location"]) == (302, "/customers/")


def test_an_htmx_post_is_sent_to_the_page_with_hx_redirect():
    response = redirect_after_post(_post(htmx=True), "/customers/")
    assert (response.status_code, response["HX-Redirect"]) == (200, "/customers/")
    assert not response.has_header("Location")


class _Unreadable(io.RawIOBase):
    def read(self, *args):
        raise AssertionError("the body was read")


def test_a_body_declared_over_the_limit_is_refused_without_reading_it():
    request = RequestFactory().generic("POST", "/door/", CONTENT_LENGTH="2049", **{"wsgi.input": _Unreadable()})
    assert body_too_large(request, 2048)


def test_a_body_within_the_limit_passes():
    request = RequestFactory().post("/door/", data=b"x" * 2048, content_type="application/json")
    assert not body_too_large(request, 2048)
    assert body_too_large(request, 2047)

