"""Writing a note on the customer 360 in a real browser, on a laptop and on a phone."""

import pytest
from playwright.sync_api import expect

from customers.models import Customer, CustomerNote
from sync.models import SyncJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_support_writes_a_note_on_the_360_and_sees_it_without_leaving_the_page(
    seeded, login, page, live_server, shot, viewport
):
    page.set_viewport_size(VIEWPORTS[viewport])
    login("support")
    customer = Customer.objects.live().exclude(name="").order_by("pk").first()
    page.goto(f"{live_server.url}/customers/{customer.public_id}/")
    box = page.get_by_label("Write a note")
    box.scroll_into_view_if_needed()
    box.fill("Called Ada: she wants to move to yearly billing.\nCall back Friday.")
    page.get_by_role("button", name="Save note").click()

    note = page.locator("#note-list li.note").first
    expect(note).to_contain_text("she wants to move to yearly billing.")
    expect(note).to_contain_text("support@demo.switchboard.test")
    expect(note.get_by_role("link", name="Edit")).to_be_visible()
    expect(page.get_by_label("Write a note")).to_have_value("")  # the panel came back fresh
    assert page.url.endswith(f"/customers/{customer.public_id}/")  # swapped in place, no reload
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= VIEWPORTS[viewport]["width"], f"the page scrolls sideways at {viewport} width: {width}px"
    shot(viewport)

    saved = CustomerNote.objects.get(customer=customer)
    assert saved.body == "Called Ada: she wants to move to yearly billing.\nCall back Friday."
    assert SyncJob.objects.filter(customer=customer, action="add_note").count() == 1
