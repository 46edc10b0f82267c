"""In a browser, at a phone's and a laptop's size: the owner registers an endpoint (its secret shown
once), sends it a test event that a loopback receiver verifies, and adds a Slack route."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.roles import Role
from tests.browser.test_layout_and_access import _serious
from tests.browser.test_rules_editors_and_support_queue import sign_in, sized  # noqa: F401 (fixtures)
from tests.browser.test_unknown_sender_link import no_wider_than_the_window

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_registers_an_endpoint_tests_it_and_adds_a_slack_route(sized, sign_in, live_server, page):
    from sync.models import SyncJob
    from sync.services import job_run
    from tests.webhooks.receiver import Receiver

    sign_in(Role.OWNER)
    with Receiver() as receiver:
        if sized == "laptop":  # on a phone the link is behind the Menu button
            page.get_by_role("link", name="Outbound webhooks").click()
        else:
            page.goto(f"{live_server.url}/outbound/")
        expect(page.get_by_role("heading", name="Outbound webhooks and Slack")).to_be_visible()
        no_wider_than_the_window(page)
        page.get_by_role("link", name="Add an endpoint").click()
        page.get_by_label("Address").fill(receiver.url)
        page.get_by_label("Description").fill("Our internal CRM")
        page.get_by_label("payment.failed").check()
        page.get_by_label("ticket.opened").check()
        no_wider_than_the_window(page)
        page.get_by_role("button", name="Save").click()
        secret = page.locator("#new-secret-value").inner_text().strip()
        assert secret.startswith("whsec_")
        no_wider_than_the_window(page)
        receiver.secrets = [secret]

        page.get_by_role("button", name="Send a test event").click()
        expect(page.get_by_role("status").filter(has_text="queued")).to_be_visible()
        job = SyncJob.objects.get(payload__event_type="switchboard.test")
        job_run(job_id=job.pk, worker="browser")  # what a worker does (the suite's already did, on commit)
        page.reload()
        expect(page.locator("#deliveries")).to_contain_text("delivered")
        assert page.locator("#new-secret-value").count() == 0  # shown once
        no_wider_than_the_window(page)
        assert not _serious(Axe().run(page))
    assert receiver.deliveries[0]["verified"] == [True]

    page.goto(f"{live_server.url}/outbound/new/?kind=slack")
    page.get_by_label("Incoming webhook address").fill("https://hooks.slack.com/services/T0/B0/x")
    page.get_by_label("Failed payment").check()
    page.get_by_role("checkbox", name="Name", exact=True).check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("dl")).to_contain_text("Failed payment")
    no_wider_than_the_window(page)
    assert not _serious(Axe().run(page))
