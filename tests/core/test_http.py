"""After a POST every view answers with one helper: htmx follows HX-Redirect, a browser a 302."""

from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from core.http import redirect_after_post


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
