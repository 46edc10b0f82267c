"""A difference between a tool and billing, in the queue of the seeded demo: read, repaired in one
click, at a phone's width and a laptop's."""

import re

import pytest
from playwright.sync_api import expect

from sync.models import DriftResolution, SyncJob, ToolDrift

WIDTHS = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}


@pytest.fixture
def fresh_tools(settings, tmp_path):
    """The sandbox tools of this demo only (an earlier seeding's records would be orphans here)."""
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")


def test_the_owner_reads_and_repairs_drift_at_a_phone_and_a_laptop_width(fresh_tools, seeded, login, page, shot):
    login("owner")
    page.on("dialog", lambda dialog: dialog.accept())  # "Send the jobs that put ... right?"
    for name, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.reload()
        group = page.locator("section.queue-group", has_text="drift:").filter(
            has=page.get_by_role("button", name="Repair")).first
        row = group.locator("li.queue-item", has=page.get_by_role("button", name="Repair")).first
        expect(row).to_be_visible()
        drift_id = int(re.search(r"(\d+)$", row.get_attribute("id")).group(1))
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        group.scroll_into_view_if_needed()
        shot(f"{name}-before", docs="drift-queue.png" if name == "laptop" else "")

        row.get_by_role("button", name="Repair").click()

        expect(page.locator(f"#item-tool-drift-{drift_id}")).to_contain_text("Repair sent")
        shot(f"{name}-after")
        drift = ToolDrift.objects.get(pk=drift_id)
        assert drift.resolution == DriftResolution.REPAIRED
        assert SyncJob.objects.filter(idempotency_key__startswith=f"drift:{drift_id}:").exists()


@pytest.mark.parametrize("name", list(WIDTHS))
def test_the_drift_page_fits_the_screen_and_offers_ignore_with_a_note(name, fresh_tools, seeded, login, page, live_server):
    login("owner")
    page.set_viewport_size(WIDTHS[name])
    drift = ToolDrift.objects.filter(resolved_at__isnull=True, customer__isnull=False).first()
    page.goto(f"{live_server.url}/queue/tool_drift/{drift.pk}/")
    expect(page.locator("#drift-sentence")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[name]["width"]
    page.get_by_label(re.compile("as it is, because")).fill("Agreed with the customer by email")
    page.get_by_role("button", name="Ignore with this note").click()
    page.wait_for_url(f"{live_server.url}/")
    drift.refresh_from_db()
    assert (drift.resolution, drift.note) == (DriftResolution.IGNORED, "Agreed with the customer by email")
