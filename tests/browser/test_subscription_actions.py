"""A finance person changes a subscription from the 360 in a browser, on a laptop and on a phone: a plan change
with Stripe's preview, cancel at period end and its undo, a pause of collection. Stripe is the loopback fake;
its webhook is delivered as Stripe would, and the 360 follows."""

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from tests.stripe_events import SECRET
from tests.billing.subscription_fake import subs_fake  # noqa: F401 - fixture
from tests.billing.subscription_setup import live_sub, stripe_echo  # noqa: F401 - fixtures
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def webhook_secrets(settings):
    settings.STRIPE_WEBHOOK_SECRETS = [SECRET]
    settings.STRIPE_LIVEMODE = False


AXE = Axe()
VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(VIEWPORTS))
def finance_page(request, live_server, page):
    UserFactory(email="fin@switchboard.test", role="finance")
    page.set_viewport_size(VIEWPORTS[request.param])
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("fin@switchboard.test")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    page.viewport = VIEWPORTS[request.param]
    return page


def _looks_right(page) -> None:
    """Nothing wider than the screen, no 'None' where a value should be, nothing axe-core calls serious."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport["width"], f"{page.url} is {width} px wide on {page.viewport['width']} px"
    assert "None" not in page.locator("main").inner_text(), page.url
    problems = [f"{v['id']} ({v['impact']}): {v['help']}" for v in AXE.run(page).response["violations"]
                if v.get("impact") in ("serious", "critical")]
    assert not problems, f"{page.url}: {problems}"


def _open_360(page, live_server, sub) -> None:
    page.goto(f"{live_server.url}/customers/{sub.customer.public_id}/")
    _looks_right(page)


def _confirm(page, sub, button: str) -> None:
    """Confirm, and wait for the 360 to show the request sent (Stripe has it before its webhook is delivered)."""
    page.get_by_role("button", name=button).click()
    expect(page.locator(f"#subscription-actions-{sub.pk}")).to_contain_text("sent to stripe")
    _looks_right(page)


def _action(page, sub, kind: str):
    return page.locator(f"#subscription-actions-{sub.pk} [data-action='{kind}']")


def test_change_plan_with_stripes_preview(finance_page, live_server, subs_fake, live_sub, deliver):
    page = finance_page
    _open_360(page, live_server, live_sub)
    _action(page, live_sub, "change_plan").click()
    page.get_by_label("New price").select_option("price_enterprise_month")
    _looks_right(page)
    page.get_by_role("button", name="Review").click()

    expect(page.locator("#money-consequence")).to_contain_text("Due now: 12.00 USD")
    expect(page.locator("#money-consequence")).to_contain_text("Next invoice: 99.00 USD")
    expect(page.locator("#subscription-summary")).to_contain_text(live_sub.stripe_id)
    _looks_right(page)
    _confirm(page, live_sub, "Confirm: change plan")

    stripe_echo(deliver, subs_fake, live_sub)
    page.reload()
    expect(page.locator(f"#subscription-actions-{live_sub.pk}")).to_contain_text("confirmed by stripe")
    expect(page.locator("#subscriptions")).to_contain_text("Enterprise")
    _looks_right(page)


def test_cancel_at_period_end_then_undo(finance_page, live_server, subs_fake, live_sub, deliver):
    page = finance_page
    _open_360(page, live_server, live_sub)
    _action(page, live_sub, "cancel_at_period_end").click()
    expect(page.locator("#money-consequence")).to_contain_text("Nothing is refunded.")
    _looks_right(page)
    _confirm(page, live_sub, "Confirm: cancel at period end")
    stripe_echo(deliver, subs_fake, live_sub)
    page.reload()
    expect(page.locator("#subscriptions")).to_contain_text("cancels at period end")
    _looks_right(page)

    _action(page, live_sub, "undo_cancel").click()
    expect(page.locator("#what-changes")).to_contain_text("pending cancellation is removed")
    _confirm(page, live_sub, "Confirm: undo the cancellation")
    stripe_echo(deliver, subs_fake, live_sub)
    page.reload()
    expect(page.locator("#subscriptions")).not_to_contain_text("cancels at period end")
    expect(_action(page, live_sub, "cancel_at_period_end")).to_be_visible()
    _looks_right(page)


def test_pause_collection_until_a_date(finance_page, live_server, subs_fake, live_sub, deliver):
    page = finance_page
    _open_360(page, live_server, live_sub)
    _action(page, live_sub, "pause_collection").click()
    day = timezone.localdate() + timedelta(days=14)
    page.get_by_label("Resume billing on").fill(day.isoformat())
    page.get_by_label("Invoices during the pause").select_option("keep_as_draft")
    _looks_right(page)
    page.get_by_role("button", name="Review").click()
    expect(page.locator("#money-consequence")).to_contain_text(f"Billing resumes on {day:%d %b %Y}")
    _looks_right(page)
    _confirm(page, live_sub, "Confirm: pause collection")

    stripe_echo(deliver, subs_fake, live_sub)
    page.reload()
    expect(page.locator("#subscriptions")).to_contain_text("collection paused")
    expect(_action(page, live_sub, "resume_collection")).to_be_visible()
    _looks_right(page)
