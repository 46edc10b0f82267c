"""Playwright against Django's live server, driving Debian's chromium headless."""

import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from demo.logins import DEMO_PASSWORD
from tests.browser import snapshot


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ROOT / "docs" / "screenshots"


@pytest.fixture(scope="session", autouse=True)
def _orm_beside_playwright():
    # Playwright's sync API runs an event loop in the main thread from the first browser test
    # to the end of the session; the ORM calls of the tests (and the database set-up of every
    # later test) are still plain synchronous calls. Set from the first browser test on, and
    # removed at the end of the session (subprocesses of other tests drop it themselves).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def _roles() -> None:
    """Live-server tests flush the database after each test; put back the content types, permissions
    and role groups the migrations wrote, exactly as the migrations do."""
    from django.apps import apps

    from accounts.roles import sync_roles

    sync_roles(apps)


_SEEDED: list[snapshot.Snapshot] = []


@pytest.fixture
def seeded(transactional_db):
    """The demo as ``seed_demo`` makes it: seeded once per session, then put back from its snapshot."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType

    # An earlier test that emptied and refilled the database leaves content type ids cached
    # in this process that no longer exist; audit log entries written by the seed would point at them.
    ContentType.objects.clear_cache()
    if _SEEDED:
        snapshot.restore(_SEEDED[0])
        ContentType.objects.clear_cache()
        return
    _roles()  # in case an earlier live-server test in this session emptied the database without restoring it
    Path(settings.SANDBOX_STATE_PATH).unlink(missing_ok=True)  # the demo's sandbox tools, nothing older
    call_command("seed_demo", stdout=io.StringIO())
    _SEEDED.append(snapshot.take())


@pytest.fixture
def login(live_server, page):
    def sign_in(role: str):
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(f"{role}@demo.switchboard.test")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return sign_in


@pytest.fixture
def shot(page, request):
    """Save a screenshot of the page under test-artifacts/; with UPDATE_SCREENSHOTS=1 also the
    README's copy under docs/screenshots/ (a plain test run leaves the checkout unchanged)."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(name: str = "", *, docs: str = "") -> Path:
        path = ARTIFACTS / f"{request.node.name.replace('/', '_')}{'-' + name if name else ''}.png"
        page.screenshot(path=str(path), full_page=True)
        if docs and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / docs), full_page=False)
        return path

    return take
