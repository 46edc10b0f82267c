"""In a browser, at a laptop's and a phone's size: the owner edits mapping and routing rules as rows,
reviews the difference and saves; support works its own queue."""

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from support.services import routing_rule_current
from sync.services import mapping_rules_current
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def sized(request, page):
    page.set_viewport_size(SIZES[request.param])
    return request.param


@pytest.fixture
def sign_in(live_server, page):
    def _sign_in(role: str):
        from django.contrib.contenttypes.models import ContentType

        from tests.browser.conftest import _roles

        # an earlier live-server test may have emptied the tables the migrations filled (the role groups)
        ContentType.objects.clear_cache()
        _roles()
        user = UserFactory(email=f"{role}@switchboard.test", role=role)
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        return user

    return _sign_in


def fits(page, selector: str) -> None:
    """The region is no wider than the window: a person can read it without scrolling sideways."""
    width = page.evaluate("() => window.innerWidth")
    box = page.locator(selector).first.bounding_box()
    assert box is not None and box["x"] >= -1 and box["x"] + box["width"] <= width + 1, (selector, box, width)


def test_the_owner_changes_a_lifecycle_stage_reviews_the_difference_and_saves(sized, sign_in, live_server, page, shot):
    sign_in(Role.OWNER)
    before = mapping_rules_current()["crm"]
    page.goto(f"{live_server.url}/sync/rules/")
    card = page.locator("#rules-crm")
    fits(page, "#rules-crm")
    card.get_by_label("Trial lifecycle stage").fill("evangelist")
    card.locator("#rules-crm-rows").get_by_role("button", name="Review changes").click()
    review = page.locator("#rules-crm-review")
    expect(review).to_contain_text("lifecycle_stage.trial")
    expect(review).to_contain_text("evangelist")
    expect(review.locator(".rules-preview")).to_contain_text("differs from now")
    fits(page, "#rules-crm")
    shot(sized)
    review.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#rules-crm-title")).to_contain_text(f"version {(before.version or 0) + 1}")
    assert mapping_rules_current()["crm"].rules["lifecycle_stage"]["trial"] == "evangelist"


def test_the_owner_adds_a_route_reviews_where_messages_go_and_saves(sized, sign_in, live_server, page, shot):
    sign_in(Role.OWNER)
    routes = len(routing_rule_current().rules["routes"])
    page.goto(f"{live_server.url}/support/routing/")
    fits(page, "#routing-rows")
    form = page.locator("#routing-rows")
    form.locator(f'select[name="route__{routes}__category"]').select_option("bug")
    form.locator(f'input[name="route__{routes}__group"]').fill("Engineering")
    form.locator(f'input[name="route__{routes}__position"]').fill("1")
    form.get_by_role("button", name="Review changes").click()
    review = page.locator("#routing-review")
    expect(review).to_contain_text("Engineering")
    expect(review.locator(".rules-preview")).to_contain_text("Something is broken (differs from now)")
    shot(sized)
    review.get_by_role("button", name="Save as a new version").click()
    expect(page.get_by_text("Routing rules saved as version")).to_be_visible()
    assert routing_rule_current().rules["routes"][0] == {"category": "bug", "group": "Engineering"}


def test_support_resolves_a_failed_payment_whose_ticket_is_open_and_the_count_follows(sized, sign_in, live_server,
                                                                                        page, shot):
    from billing.models import Invoice
    from support.models import Ticket, TicketStatus
    from tests.factories import CustomerFactory

    customers = [CustomerFactory(status="past_due", mrr=4900) for _ in range(2)]
    for n, customer in enumerate(customers):
        Invoice.objects.create(stripe_id=f"in_b{n}", customer=customer, status="open", amount_due=4900, currency="usd",
                               payment_failed=True, attempt_count=1)
        Ticket.objects.create(customer=customer, subject="Payment failed", idempotency_key=f"b:{n}", source="billing",
                              fact="invoice.payment_failed", status=TicketStatus.OPEN)
    sign_in(Role.SUPPORT)
    group = page.locator("section.queue-group", has_text="Failed payments with an open ticket")
    expect(group.locator("li.queue-item")).to_have_count(2)
    fits(page, "section.queue-group")
    shot(sized)
    row = group.locator("li.queue-item").first
    row.locator("summary", has_text="Resolve").click()
    row.get_by_placeholder("What did you do?").fill("Asked them to update the card")
    row.get_by_role("button", name="Resolve").click()
    expect(group).to_contain_text("Resolved by you")
    expect(page.locator(".qcount-ticketed_failed_payment").first).to_have_text("1")


def test_supports_empty_queue_says_what_would_appear_there(sized, sign_in, live_server, page):
    sign_in(Role.SUPPORT)
    expect(page.locator("#queue-empty")).to_contain_text("This is where you would see")
    expect(page.locator("#queue-empty")).to_contain_text("failed payments whose ticket is open")
    fits(page, "#queue-empty")


def test_a_rule_is_checked_as_it_is_typed_without_taking_the_cursor_away(sized, sign_in, live_server, page):
    sign_in(Role.OWNER)
    before = mapping_rules_current()["crm"]
    page.goto(f"{live_server.url}/sync/rules/")
    field = page.locator("#rules-crm").get_by_label("Active tags")
    field.fill("paying, big spender")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#crm-status_tags__active-error")).to_contain_text("tags are single words")
    expect(page.locator("#rules-crm-rows-check")).to_contain_text("('big spender' has a space)")
    assert page.evaluate("document.activeElement.id") == "crm-status_tags__active"
    fits(page, "#crm-status_tags__active-error")
    field_box, error_box = field.bounding_box(), page.locator("#crm-status_tags__active-error").bounding_box()
    assert error_box["y"] >= field_box["y"] + field_box["height"] - 1  # under the field, not squeezing it
    assert field_box["width"] > 150
    field.fill("paying, big-spender")
    expect(page.locator("#rules-crm-rows-check")).to_contain_text(
        "No problems so far; 1 value differs from the rules in force (status_tags.active)")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#crm-status_tags__active-error")).to_have_count(0)
    assert mapping_rules_current()["crm"].version == before.version  # nothing saved


def test_routing_rows_are_checked_as_they_are_typed(sign_in, live_server, page):
    sign_in(Role.OWNER)
    page.goto(f"{live_server.url}/support/routing/")
    tags = page.get_by_label("Route 2 tags", exact=True)
    tags.fill("billing team")
    expect(page.locator("#routing-rows-check")).to_contain_text("Route 2: tags are single words separated by commas.")
    expect(tags).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#routing-route__1__tags-error")).to_contain_text("Route 2: tags are single words")
    tags.fill("billing-team")
    expect(page.locator("#routing-rows-check")).to_contain_text("No problems so far; 1 value differs")
    expect(tags).not_to_have_class(re.compile(r"\bis-invalid\b"))


def test_a_json_error_from_the_review_goes_away_once_the_json_is_mended(sign_in, live_server, page):
    sign_in(Role.OWNER)
    page.goto(f"{live_server.url}/sync/rules/")
    page.locator("#rules-crm summary").filter(has_text="Advanced").click()
    rules = page.locator("#rules-crm-json")
    good = rules.input_value()
    rules.fill(good[:-2])
    page.locator("#rules-crm-json-form").get_by_role("button", name="Review changes").click()
    error = page.locator("#rules-crm-json-error")
    expect(error).to_contain_text("Enter a valid JSON document")
    rules = page.locator("#rules-crm-json")
    rules.fill(good)
    expect(page.locator("#rules-crm-json-form-check")).to_contain_text("nothing differs from the rules in force")
    expect(page.locator("#rules-crm-json-form .invalid-feedback")).to_have_count(0)
    expect(rules).not_to_have_attribute("aria-invalid", "true")
