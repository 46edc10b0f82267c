"""The screens in a real browser, with the demo data: what a person does, click by click."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import EventStatus, StripeEvent
from customers.models import Customer, ExternalLink, System
from sync.models import JobStatus, SyncJob

# Live-server tests commit for real and the database is emptied after each; serialized_rollback
# puts back what migrations wrote (the role groups) for the tests that run after these.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

REFRESH_WAIT_MS = 15_000  # the queue refreshes every 5 s; allow a few rounds


def _failed_event(error: str) -> StripeEvent:
    n = StripeEvent.objects.count() + 1
    return StripeEvent.objects.create(
        stripe_id=f"evt_browser{n:06d}", type="customer.subscription.updated", created=timezone.now(),
        payload={"id": f"evt_browser{n:06d}"}, status=EventStatus.FAILED, last_error=error, attempts=1,
    )


def test_the_owner_resolves_a_dead_sync_job_from_the_home_page_in_at_most_three_clicks(seeded, login, page, shot):
    login("owner")
    clicks = 0
    group = page.locator("section.queue-group", has_text="Dead CRM jobs")
    row = group.locator("li.queue-item").first
    expect(row).to_contain_text("failed for good")
    job_id = int(re.search(r"(\d+)$", row.get_attribute("id")).group(1))
    shot("before")

    row.get_by_role("button", name="Retry").click()
    clicks += 1

    done = page.locator(f"#item-dead-job-{job_id}")
    expect(done).to_contain_text("Queued again")
    shot("after")
    assert clicks <= 3
    assert SyncJob.objects.get(pk=job_id).status != JobStatus.DEAD
    # the refresh keeps the row the pointer is on; once the owner moves on, the next refresh drops it
    page.mouse.move(0, 0)
    page.locator("body").focus()
    expect(page.locator(f"#item-dead-job-{job_id}")).to_have_count(0, timeout=REFRESH_WAIT_MS)


def test_a_support_agent_finds_a_customer_by_stripe_id_and_sees_billing_state(seeded, login, page, shot):
    login("support")
    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_label("Email, name, Switchboard id or any outside id").fill("cus_demo0025")
    expect(page.locator("#result-count")).to_contain_text("1 customer")
    customer = ExternalLink.objects.get(system=System.STRIPE, external_id="cus_demo0025").customer
    page.locator("#results").get_by_role("link", name=customer.name).click()

    expect(page.locator("h1")).to_have_text(customer.name)
    expect(page.locator("#billing-title")).to_be_visible()
    expect(page.locator("#invoices")).to_contain_text("payment failed")
    expect(page.locator("#subscriptions")).to_contain_text("past_due".replace("_", " "))
    expect(page.locator("#links")).to_contain_text("cus_demo0025")
    shot()


def test_the_queue_refreshes_itself_but_never_under_a_half_typed_note(seeded, login, page, shot):
    login("owner")
    page.evaluate(
        """() => { window.skippedRefreshes = 0;
          document.addEventListener('htmx:beforeRequest', (e) => {
            if (e.detail.elt.id === 'queue-region' && e.defaultPrevented) window.skippedRefreshes += 1; }); }"""
    )
    _failed_event("First problem from the browser test")
    expect(page.get_by_text("First problem from the browser test")).to_be_visible(timeout=REFRESH_WAIT_MS)

    row = page.locator("li.queue-item", has_text="First problem from the browser test")
    row.get_by_text("Resolve…").click()
    note = row.get_by_placeholder("What did you do?")
    note.fill("Half-typed: checked the")
    _failed_event("Second problem from the browser test")
    page.wait_for_function("() => window.skippedRefreshes >= 2", timeout=REFRESH_WAIT_MS)
    expect(note).to_have_value("Half-typed: checked the")
    expect(page.get_by_text("Second problem from the browser test")).to_have_count(0)
    shot("typing")

    note.fill("Checked the logs; Stripe resent it")
    row.get_by_role("button", name="Resolve").click()
    expect(page.locator("#queue-region").get_by_text("Resolved by you: Checked the logs")).to_be_visible()
    expect(page.get_by_text("Second problem from the browser test")).to_be_visible(timeout=REFRESH_WAIT_MS)
    shot("refreshed")


def test_finance_sees_no_pause_control_and_a_crafted_pause_gets_403(seeded, login, page, live_server, shot):
    login("finance")
    page.get_by_role("link", name="Systems").click()
    expect(page.locator("#systems")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Pause"))).to_have_count(0)
    shot()

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": token}
    refused = page.request.post(f"{live_server.url}/sync/systems/crm/pause/", form={"reason": "x"}, headers=headers)
    assert refused.status == 403
    assert "You do not have permission" in refused.text()  # our 403, not a CSRF failure
    allowed = page.request.post(f"{live_server.url}/sync/jobs/retry-selected/", form={}, headers=headers)
    assert allowed.status == 200  # the same token passes CSRF where finance may act
    from sync.models import SystemState

    assert not SystemState.objects.filter(system="crm", paused=True).exists()


def test_a_refused_htmx_action_says_so_in_a_sentence_and_keeps_the_page(seeded, login, page, shot):
    from accounts.models import User

    login("owner")
    row = page.locator("section.queue-group", has_text="Dead CRM jobs").locator("li.queue-item").first
    expect(row).to_be_visible()
    User.objects.get(email="owner@demo.switchboard.test").groups.clear()  # the role is taken away meanwhile
    row.get_by_role("button", name="Retry").click()
    expect(page.locator("#htmx-error")).to_have_text("You do not have permission to do that.")
    # Not the error response's body in place of the page (Django's debug mode does that).
    expect(page.get_by_role("link", name="Needs action now")).to_be_visible()
    expect(row).to_be_visible()
    assert "django-htmx.js" not in page.content()
    shot()


def test_readme_screenshots_of_the_home_page_and_a_customer_360(seeded, login, page, live_server, shot):
    login("owner")
    expect(page.locator("section.queue-group").first).to_be_visible()
    shot("home", docs="home.png")

    # The seeded customer whose access the owner keeps by hand while billing says past due.
    customer = Customer.objects.exclude(override_status="").get()
    assert customer.status == "past_due"
    page.goto(f"{live_server.url}/customers/{customer.public_id}/")
    expect(page.locator("#override-banner")).to_contain_text("set by owner@demo.switchboard.test")
    shot("customer-360", docs="customer-360.png")
