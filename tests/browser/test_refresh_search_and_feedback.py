"""The queue refresh never under someone's hands, search from the navigation, and the feedback every
action gives (toasts, confirmations, progress), in a real browser."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import EventStatus, StripeEvent
from customers.models import Customer, CustomerStatus, ExternalLink, System

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
REFRESH_WAIT_MS = 15_000  # the queue refreshes every 5 s; allow a few rounds


def _failed_event(error: str) -> StripeEvent:
    n = StripeEvent.objects.count() + 1
    return StripeEvent.objects.create(
        stripe_id=f"evt_refresh{n:06d}", type="customer.subscription.updated", created=timezone.now(),
        payload={"id": f"evt_refresh{n:06d}"}, status=EventStatus.FAILED, last_error=error, attempts=1,
    )


def _count_refreshes(page) -> None:
    page.evaluate(
        """() => { window.refreshes = 0; window.added = 0;
          document.addEventListener('sb:queue-refreshed', (e) => { window.refreshes += 1; window.added += e.detail.added; }); }"""
    )


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_the_queue_refresh_keeps_focus_scroll_and_the_row_a_person_is_on(viewport, seeded, login, page, shot):
    page.set_viewport_size(viewport)
    login("owner")
    rows = page.locator("li.queue-item")
    expect(rows.first).to_be_visible()
    # A person tabs to "Assign to me" on a row halfway down the list.
    button = rows.nth(rows.count() // 2).get_by_role("button", name="Assign to me").element_handle()
    button.scroll_into_view_if_needed()
    button.focus()
    page.evaluate("() => { window.held = document.activeElement; window.heldRow = window.held.closest('li'); }")
    top_before = button.bounding_box()["y"]
    _count_refreshes(page)

    _failed_event("A problem that arrives while someone is on a row")
    page.wait_for_function("() => window.refreshes >= 2 && window.added >= 1", timeout=REFRESH_WAIT_MS)

    assert page.evaluate("document.activeElement === window.held")
    assert page.evaluate("window.heldRow.isConnected")  # the same row, not a copy put in its place
    assert abs(button.bounding_box()["y"] - top_before) < 1  # nothing moved under the person's eyes
    expect(page.locator("#queue-news")).to_have_text("1 new item added to the list")
    expect(page.locator("li.queue-item-new", has_text="A problem that arrives")).to_have_count(1)
    shot()


def test_a_row_the_person_is_on_stays_while_it_is_resolved_elsewhere(seeded, login, page):
    login("owner")
    event = _failed_event("Someone else fixes this one")
    row = page.locator("li.queue-item", has_text="Someone else fixes this one")
    expect(row).to_be_visible(timeout=REFRESH_WAIT_MS)
    row.get_by_role("button", name="Assign to me").focus()
    _count_refreshes(page)
    StripeEvent.objects.filter(pk=event.pk).update(status=EventStatus.PROCESSED)
    page.wait_for_function("() => window.refreshes >= 2", timeout=REFRESH_WAIT_MS)
    expect(row.get_by_role("button", name="Assign to me")).to_be_focused()
    # Once the person moves on, the next refresh takes the row away.
    page.locator("body").click(position={"x": 5, "y": 300})
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement.blur()")
    expect(row).to_have_count(0, timeout=REFRESH_WAIT_MS)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
def test_slash_focuses_the_search_box_and_one_match_opens_the_customer(viewport, seeded, login, page, live_server):
    page.set_viewport_size(viewport)
    login("support")
    page.keyboard.press("/")
    search = page.get_by_role("searchbox", name="Find a customer by id, email or name")
    expect(search).to_be_focused()
    search.fill("cus_demo0025")
    search.press("Enter")
    customer = ExternalLink.objects.get(system=System.STRIPE, external_id="cus_demo0025").customer
    expect(page).to_have_url(f"{live_server.url}/customers/{customer.public_id}/")
    expect(page.locator("h1")).to_have_text(customer.name)


def test_slash_types_a_slash_in_a_field(seeded, login, page, live_server):
    login("owner")
    page.goto(f"{live_server.url}/customers/")
    field = page.get_by_label("Email, name, Switchboard id or any outside id")
    field.click()
    page.keyboard.type("a/b")
    expect(field).to_have_value("a/b")
    expect(page.get_by_role("searchbox", name="Find a customer by id, email or name")).not_to_be_focused()


def test_a_search_with_several_matches_lists_them(seeded, login, page, live_server):
    login("owner")
    page.keyboard.press("/")
    page.keyboard.type("example.com")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/customers/\?q=example.com"))
    expect(page.locator("#result-count")).to_contain_text("customers")


def test_an_htmx_action_says_how_it_went_in_a_toast(seeded, login, page):
    login("owner")
    row = page.locator("section.queue-group", has_text="Dead CRM jobs").locator("li.queue-item").first
    row.get_by_role("button", name="Retry").click()
    expect(page.locator("#toasts .sb-toast-success")).to_contain_text("Queued again")


def test_a_page_action_says_how_it_went_in_a_toast(seeded, login, page, live_server):
    login("owner")
    customer = Customer.objects.filter(status=CustomerStatus.ACTIVE, override_status="").order_by("pk").first()
    page.goto(f"{live_server.url}/customers/{customer.public_id}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#restrict-form").get_by_role("button", name="Restrict").click()
    expect(page.locator("#toasts .sb-toast")).to_be_visible()
    customer.refresh_from_db()
    assert customer.restricted


def declining_on_a_360(login, page, live_server) -> tuple[Customer, list[str]]:
    """The owner on an active customer's page, saying no to every question it asks (kept in the list)."""
    login("owner")
    customer = Customer.objects.filter(status=CustomerStatus.ACTIVE).order_by("pk").first()
    page.goto(f"{live_server.url}/customers/{customer.public_id}/")
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    return customer, asked


def test_restrict_asks_first_and_does_nothing_when_declined(seeded, login, page, live_server):
    customer, asked = declining_on_a_360(login, page, live_server)
    page.locator("#restrict-form").get_by_role("button", name="Restrict").click()
    expect(page.locator("#restrict-form")).to_contain_text("Visible to all staff")
    assert asked and "Restrict" in asked[0]
    customer.refresh_from_db()
    assert not customer.restricted


def test_a_form_that_asks_asks_when_it_is_sent_not_when_its_fields_are_used(seeded, login, page, live_server):
    _, asked = declining_on_a_360(login, page, live_server)
    owner_field = page.locator("#assign-form select")
    owner_field.click()
    owner_field.press("Escape")
    owner_field.select_option(index=1)
    assert asked == []
    page.locator("#assign-form").get_by_role("button", name="Save").click()
    expect(page.locator("#assign-form")).to_be_visible()
    assert len(asked) == 1 and asked[0].startswith("Change who owns this customer?")
