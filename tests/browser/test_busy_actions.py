"""While a slow action is on its way its button shows a spinner and is disabled: a second click
sends nothing more. The request is held at the network boundary (Playwright keeps it until the test
lets it go), so the app itself runs unchanged."""

import json
import re

import pytest
from django.urls import reverse

from customers.models import Customer, CustomerStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Put in the page before the click: once the form is submitted (and app.js has had its turn), it
# notes whether the button is disabled with its spinner showing, then clicks it again. Kept in
# sessionStorage, which outlives the page a plain form's answer replaces. (While a navigation is
# held, Playwright's own reads of the page wait for it, so the page reports on itself.)
PROBE = """button => {
  window.sbProbed = true;
  document.addEventListener("submit", () => setTimeout(() => {
    const spinner = button.querySelector(".spinner-border");
    sessionStorage.setItem("probe", JSON.stringify({
      disabled: button.disabled, spinner: getComputedStyle(spinner).display !== "none"}));
    button.click();
  }, 50), {once: true});
  setTimeout(() => button.click(), 0);
}"""


def _busy_action(page, button_locator, url_part: str, *, navigates: bool = True) -> dict:
    held, sent = [], []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and url_part in r.url else None)
    page.route(re.compile(".*" + re.escape(url_part) + ".*"),
               lambda route: held.append(route) if route.request.method == "POST" else route.continue_())
    page.on("dialog", lambda d: d.accept())
    page.evaluate(PROBE, button_locator.element_handle())
    while not held:
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)  # the probe's second click has been made by now (it runs 50 ms after the submit)
    assert len(sent) == 1
    held[0].continue_()
    # The answer is in: a plain form's next page has loaded, an htmx action has let go of its button.
    page.wait_for_function("() => !window.sbProbed && document.readyState === 'complete'" if navigates
                           else "() => !document.querySelector('.sb-busy')")
    page.wait_for_load_state("networkidle")
    assert len(sent) == 1, sent
    return json.loads(page.evaluate("sessionStorage.getItem('probe')"))


def _review_page(page, live_server) -> None:
    review = Customer.objects.filter(status=CustomerStatus.NEEDS_REVIEW).order_by("pk").first()
    page.goto(live_server.url + reverse("customer_review", args=[review.public_id]))


def test_merging_a_twin_shows_progress_and_cannot_be_sent_twice(seeded, login, page, live_server):
    login("owner")
    _review_page(page, live_server)
    button = page.get_by_role("button", name=re.compile("^Merge, keep")).first
    assert _busy_action(page, button, "/merge/") == {"disabled": True, "spinner": True}


def test_marking_twins_as_different_people_shows_progress_and_cannot_be_sent_twice(seeded, login, page, live_server):
    login("owner")
    _review_page(page, live_server)
    button = page.get_by_role("button", name=re.compile("Different people")).first
    assert _busy_action(page, button, "/distinct/") == {"disabled": True, "spinner": True}


def test_assigning_a_queue_item_shows_progress_and_cannot_be_sent_twice(seeded, login, page):
    login("owner")
    button = page.get_by_role("button", name="Assign to me").first
    assert _busy_action(page, button, "/assign/", navigates=False) == {"disabled": True, "spinner": True}
    # The answer is in: the row is back, its buttons usable again.
    assert page.locator("li.queue-item button:disabled").count() == 0


def test_retrying_selected_jobs_shows_progress_and_cannot_be_sent_twice(seeded, login, page, live_server):
    login("owner")
    page.goto(live_server.url + reverse("job_list") + "?status=dead")
    page.locator("#retry-selected-form input[type=checkbox]").first.check()
    button = page.get_by_role("button", name="Retry selected")
    assert _busy_action(page, button, "/retry-selected/") == {"disabled": True, "spinner": True}


def test_setting_an_override_shows_progress_and_cannot_be_sent_twice(seeded, login, page, live_server):
    customer = Customer.objects.filter(override_status="").order_by("pk").first()
    login("owner")
    page.goto(live_server.url + reverse("customer_detail", args=[customer.public_id]))
    form = page.locator("#override-form")
    form.get_by_label("Reason").fill("Paid by bank transfer")
    form.get_by_label("Expires").fill("2030-01-01T12:00")
    button = form.get_by_role("button", name="Set override")
    assert _busy_action(page, button, "/override/") == {"disabled": True, "spinner": True}
