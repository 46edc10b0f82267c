"""In a browser, at a laptop's and a phone's size: support replies to a customer's ticket from its page, then
comments on it and closes it from the customer 360; the desk (a loopback Zendesk, then Intercom) gets each once."""

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from tests.browser.test_rules_editors_and_support_queue import sign_in, sized  # noqa: F401 (fixtures)
from tests.support.desks import DESKS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=list(DESKS))
def desk(request, settings):
    fake = DESKS[request.param]().start()
    fake.configure(settings)
    settings.SYNC_HTTP_READ_TIMEOUT = 2
    yield fake
    fake.stop()


def readable(page) -> None:
    """No page wider than the window, and no Python None where a value belongs."""
    width, scroll = page.evaluate("() => [window.innerWidth, document.documentElement.scrollWidth]")
    assert scroll <= width, (page.url, scroll, width)
    assert "None" not in page.locator("main").inner_text(), page.url


def test_support_replies_on_the_ticket_page_and_closes_it_from_the_360(sized, sign_in, live_server, page, desk,
                                                                       shot):
    from support.models import ChangeState, TicketChange
    from support.services import ticket_open
    from tests.factories import CustomerFactory

    agent = sign_in(Role.SUPPORT)
    customer = CustomerFactory(name="Ada Lovelace", email="ada@example.com", plan="Pro", status="active", mrr=4900)
    ticket = ticket_open(customer=customer, subject="Cannot log in after paying", category="access",
                         priority="normal", note="Paid this morning, still locked out.", actor=agent,
                         token=f"browser-change-{sized}")
    ticket.refresh_from_db()
    assert ticket.external_id.isdigit()  # the desk has it

    page.goto(f"{live_server.url}/customers/{customer.public_id}/")
    page.locator("#tickets").get_by_role("link", name="Reply").click()
    page.get_by_label("Reply or comment").fill("We found the payment; you can sign in now.")
    page.get_by_label("Who sees it").select_option("public")
    page.get_by_role("button", name="Send to the desk").click()
    expect(page.locator("body")).to_contain_text("Public reply: pending at the desk until it confirms")
    expect(page.locator("#ticket-changes")).to_contain_text("confirmed by the desk")
    readable(page)
    shot(f"{sized}-replied")

    page.goto(f"{live_server.url}/customers/{customer.public_id}/")
    page.locator(f"#ticket-change-{ticket.pk} summary").click()  # the 360's own change form, folded
    page.get_by_label("Reply or comment").fill("Checked the logs with billing.")
    readable(page)  # the unfolded form fits the phone too
    page.locator(f"#ticket-change-{ticket.pk}").get_by_role("button", name="Send to the desk").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.public_id}/")
    expect(page.locator("body")).to_contain_text("Internal comment: pending at the desk until it confirms")

    page.locator("#tickets").get_by_role("button", name="Close").click()
    page.wait_for_url(f"{live_server.url}/customers/{customer.public_id}/")
    expect(page.locator("body")).to_contain_text("Status → solved: pending at the desk until it confirms")
    expect(page.locator("#tickets")).to_contain_text("change pending at the desk")
    expect(page.locator("#timeline")).to_contain_text("status → solved (pending at the desk)")
    readable(page)
    shot(f"{sized}-closed")

    [desk_ticket] = desk.made
    assert desk_ticket.status == "solved"
    assert desk.replies(desk_ticket.id) == [{"body": "We found the payment; you can sign in now.", "public": True},
                                            {"body": "Checked the logs with billing.", "public": False}]
    assert list(TicketChange.objects.order_by("pk").values_list("state", flat=True)) == [
        ChangeState.CONFIRMED, ChangeState.CONFIRMED, ChangeState.SENT]
