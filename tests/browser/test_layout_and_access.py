"""Every page of every role on a phone and a small laptop: nothing wider than the screen, who is signed
in always shown, and axe-core finds no serious or critical accessibility problem."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.every_page import PUBLIC_PAGES, ROLES, pages_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"phone": PHONE, "laptop": LAPTOP}


@pytest.fixture
def endpoint(seeded):
    """An outbound webhook endpoint, so its own page is among the owner's (the demo registers none)."""
    from webhooks.services import endpoint_create

    return endpoint_create(kind="standard", url="https://hooks.example.com/in", description="Sales sheet",
                           event_types=["payment.failed", "customer.created"], actor=None)[0]


def _visit(page, url: str):
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url} answered {response and response.status}"
    return response


@pytest.mark.parametrize("role", ROLES)
def test_no_page_is_wider_than_a_phone_or_a_laptop_screen(role, seeded, endpoint, login, page, live_server):
    login(role)
    wide = []
    for name, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        for path in pages_for(role):
            _visit(page, live_server.url + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                wide.append(f"{path} is {width} px wide on a {viewport['width']} px {name}")
            wide += [f"{path} breaks the button word {word!r} on a {name}" for word in page.evaluate(BROKEN_WORDS)]
            wide += [f"{path} labels a cell {label!r} on a {name}" for label in page.evaluate(SORT_WORDS_IN_LABELS)]
    assert not wide, "\n".join(wide)


# A stacked table's cell labels are the column names people see, not a sort link's hidden words.
SORT_WORDS_IN_LABELS = """() => [...new Set([...document.querySelectorAll('main td[data-label]')]
  .map(td => td.dataset.label).filter(label => /sort|↕|▲|▼/.test(label)))]"""


# Visible one-word buttons whose word the browser split over two lines ("Everythin" / "g").
BROKEN_WORDS = """() => [...document.querySelectorAll('main .btn')].filter(el => {
  const text = el.innerText.trim();
  if (!text || /\\s/.test(text) || !el.offsetParent) return false;
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
}).map(el => el.innerText.trim())"""


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_signed_in_email_and_role_are_shown_at_every_width(role, viewport, seeded, login, page, live_server):
    login(role)
    page.set_viewport_size(VIEWPORTS[viewport])
    _visit(page, live_server.url + pages_for(role)[1])
    identity = page.locator("#identity")
    expect(identity).to_be_visible()
    expect(identity.locator(".sb-role")).to_have_text(role)
    expect(identity).to_contain_text(f"{role}@demo.switchboard.test")
    box = identity.locator(".sb-identity-email").bounding_box()
    assert box and box["width"] > 100  # the email itself, not an ellipsis


def test_on_a_phone_the_navigation_folds_into_one_menu_button(seeded, login, page, live_server):
    login("owner")
    page.set_viewport_size(PHONE)
    _visit(page, live_server.url + "/")
    header = page.locator("header.navbar")
    links = page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers")
    expect(links).to_be_hidden()
    assert header.bounding_box()["height"] < 120  # two short lines, not five rows of links
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(links).to_be_visible()
    links.click()
    expect(page).to_have_url(f"{live_server.url}/customers/")


def test_a_skip_link_is_the_first_stop_and_leads_to_the_content(seeded, login, page, live_server):
    login("support")
    _visit(page, live_server.url + "/sync/jobs/")  # a page whose form does not take focus itself
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    skip.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def _serious(results) -> list[str]:
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


@pytest.mark.parametrize("role", ROLES)
def test_axe_finds_no_serious_or_critical_problem_on_any_page(role, seeded, endpoint, login, page, live_server):
    axe = Axe()
    login(role)
    problems = []
    for name, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        for path in pages_for(role):
            _visit(page, live_server.url + path)
            problems += [f"{path} ({name}): {p}" for p in _serious(axe.run(page))]
    assert not problems, "\n".join(problems)


def test_axe_finds_no_serious_or_critical_problem_on_the_public_pages(seeded, page, live_server):
    axe = Axe()
    problems = []
    for name, viewport in VIEWPORTS.items():
        page.set_viewport_size(viewport)
        for path in PUBLIC_PAGES:
            _visit(page, live_server.url + path)
            problems += [f"{path} ({name}): {p}" for p in _serious(axe.run(page))]
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{path} is {width} px wide on a {name}"
    assert not problems, "\n".join(problems)


def test_readme_screenshots_at_phone_width(seeded, login, page, live_server, shot):
    from customers.models import Customer

    page.set_viewport_size(PHONE)
    login("owner")
    expect(page.locator("section.queue-group").first).to_be_visible()
    shot("home-phone", docs="home-phone.png")
    customer = Customer.objects.exclude(override_status="").get()
    _visit(page, f"{live_server.url}/customers/{customer.public_id}/")
    expect(page.locator("#key-facts")).to_be_in_viewport()
    shot("customer-360-phone", docs="customer-360-phone.png")
    page.get_by_role("button", name="Menu").click()
    shot("menu-phone", docs="menu-phone.png")


def test_on_a_phone_an_attempts_request_and_response_read_from_the_left_under_their_labels(
        seeded, login, page, live_server):
    """The attempts table becomes cards on a phone, and a card's values sit on the right; indented
    JSON set flush right loses its indentation, so a request or response takes the card's width."""
    from sync.models import SyncAttempt

    attempt = SyncAttempt.objects.order_by("-pk").first()
    login("owner")
    page.set_viewport_size(PHONE)
    _visit(page, f"{live_server.url}/sync/jobs/{attempt.job_id}/")
    card = page.locator("#attempts tbody tr").first
    for which in ("Request", "Response"):
        shown = card.get_by_label(f"{which} of attempt")
        assert shown.evaluate("el => getComputedStyle(el).textAlign") == "left"
        label_bottom = shown.locator("xpath=..").evaluate(
            "cell => cell.getBoundingClientRect().top"
            " + parseFloat(getComputedStyle(cell, '::before').height)")
        box, row = shown.bounding_box(), card.bounding_box()
        assert box["y"] >= label_bottom - 1  # under its label, not beside it
        assert box["width"] >= 0.85 * row["width"]
