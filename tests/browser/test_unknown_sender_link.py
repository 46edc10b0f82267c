"""In a browser, at a phone's and a laptop's size: support finds a message from someone who was not a
customer (already answered by the desk), opens it and links it to the customer it turns out to be."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.browser.test_rules_editors_and_support_queue import sign_in, sized  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_wider_than_the_window(page) -> None:
    width, scroll = page.evaluate("() => [window.innerWidth, document.documentElement.scrollWidth]")
    assert scroll <= width, (page.url, scroll, width)


def test_support_links_a_message_the_desk_already_has_and_the_desk_ticket_follows(sized, sign_in, live_server,
                                                                                  page, shot):
    from support.models import Ticket
    from support.services import ticket_submit
    from sync.models import JobStatus, SyncJob
    from tests.factories import CustomerFactory

    customer = CustomerFactory(name="Ada Lovelace", email="ada@example.com", plan="Pro", status="active", mrr=4900)
    ticket_submit(name="Ada L.", email="ada.personal@mail.example", category="access", token=f"browser-{sized}",
                  message="I paid with my work card but cannot log in.")
    ticket = Ticket.objects.get()
    assert ticket.sync_job.status == JobStatus.SUCCEEDED  # the desk (sandbox here) answered at once

    sign_in(Role.SUPPORT)
    group = page.locator("section.queue-group", has_text="Form messages to link to a customer")
    item = group.locator("li.queue-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Sent to the desk as ticket")
    no_wider_than_the_window(page)
    shot(f"{sized}-queue")

    item.get_by_role("link", name="Link").click()
    expect(page.locator("#ticket-facts")).to_contain_text("sent to the desk for the sender")
    no_wider_than_the_window(page)
    page.get_by_label("Switchboard id").fill(customer.public_id)
    page.get_by_role("button", name="Link", exact=True).click()
    expect(page.locator("body")).to_contain_text("the desk's ticket is handed to them now")
    expect(page.locator("#ticket-facts")).to_contain_text("Ada Lovelace")
    no_wider_than_the_window(page)
    shot(f"{sized}-linked")

    update = SyncJob.objects.get(action="update_ticket")
    assert (update.customer_id, update.status) == (customer.pk, JobStatus.SUCCEEDED)
    assert Ticket.objects.get().customer_id == customer.pk
