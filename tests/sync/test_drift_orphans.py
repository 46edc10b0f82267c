"""Orphans in the tools that list their records page by page: a user in the tool carrying one of our
ids that no customer has is found once, the listing follows the tool's cursor to its last page, and
a pass that ran out of reads mid-listing resumes from the page it stopped at."""

import pytest

from sync.models import DriftKind, DriftPass, ToolDrift
from sync.services.drift import reconcile_system
from tests.sync import drift_fakes
from tests.sync.drift_helpers import open_drift, synced

pytestmark = pytest.mark.django_db


@pytest.fixture
def zendesk(serve, settings, tmp_path):
    settings.DRIFT_READ_SHARE = 1.0
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "support": "zendesk"}
    settings.SYNC_RATE_LIMITS = {name: (10_000, 1) for name in settings.SYNC_RATE_LIMITS}
    return serve(drift_fakes.Zendesk())


def ghost(desk, public_id: str, user_id: int) -> None:
    """A user someone made by hand (or left behind) in the desk, carrying ``public_id``."""
    desk.users[public_id] = {"id": user_id, "external_id": public_id, "email": f"{public_id}@example.com",
                             "role": "end-user", "tags": []}


def orphans(system: str = "support") -> list[tuple[str, str]]:
    return sorted(ToolDrift.objects.filter(system=system, kind=DriftKind.ORPHAN, resolved_at__isnull=True)
                  .values_list("actual", "external_id"))


def test_a_zendesk_user_with_an_id_no_customer_has_is_exactly_one_orphan(zendesk):
    synced("active"), synced("past_due"), synced("canceled")
    ghost(zendesk, "sw_0123456789ab", 9001)
    zendesk.users["cus_other"] = {"id": 9002, "external_id": "cus_other", "role": "end-user"}  # another integration's
    reconcile_system(system="support", fresh=True)
    assert open_drift() == {("support", "", DriftKind.ORPHAN, "public_id")}
    assert orphans() == [("sw_0123456789ab", "9001")]


def test_a_clean_zendesk_has_no_orphan(zendesk):
    for status in ("active", "past_due", "canceled"):
        synced(status)
    result = reconcile_system(system="support", fresh=True)
    assert open_drift() == set() and result.finished
    assert len(zendesk.asked_after) == 2  # three users, two a page: the listing was read to its end


def test_the_zendesk_listing_follows_the_cursor_across_pages(zendesk):
    synced("active")
    for n in range(4):
        ghost(zendesk, f"sw_ghost{n}", 9100 + n)
    reconcile_system(system="support", fresh=True)
    assert orphans() == [(f"sw_ghost{n}", str(9100 + n)) for n in range(4)]
    first, *following = zendesk.asked_after
    assert first == "" and len(following) == 2 and len(set(following)) == 2 and "" not in following


def test_an_interrupted_zendesk_listing_resumes_from_its_page_cursor(zendesk):
    synced("active")
    for n in range(4):
        ghost(zendesk, f"sw_ghost{n}", 9100 + n)
    first = reconcile_system(system="support", fresh=True, max_reads=2)  # the customer, then one page
    assert not first.finished and len(zendesk.asked_after) == 1
    saved = DriftPass.objects.get(system="support").listing_after
    assert saved
    second = reconcile_system(system="support")
    assert second.resumed and second.finished
    assert zendesk.asked_after[1] == saved  # on from the page it stopped at, not from the start
    assert len(zendesk.asked_after) == 3
    assert orphans() == [(f"sw_ghost{n}", str(9100 + n)) for n in range(4)]


@pytest.fixture
def intercom(serve, settings, tmp_path):
    settings.DRIFT_READ_SHARE = 1.0
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "crm": "intercom"}
    settings.SYNC_RATE_LIMITS = {name: (10_000, 1) for name in settings.SYNC_RATE_LIMITS}
    return serve(drift_fakes.Intercom())


def contact(messenger, public_id: str, contact_id: str) -> None:
    """A contact someone made by hand (or left behind) in Intercom, carrying ``public_id``."""
    messenger.contacts[contact_id] = {"type": "contact", "id": contact_id, "role": "user", "external_id": public_id,
                                      "email": f"{public_id}@example.com", "custom_attributes": {}, "tags": []}


def test_an_intercom_contact_with_an_id_no_customer_has_is_exactly_one_orphan(intercom):
    synced("active"), synced("past_due"), synced("canceled")
    contact(intercom, "sw_0123456789ab", "ab" * 12)
    contact(intercom, "cus_other", "cd" * 12)  # another integration's id: not ours to judge
    reconcile_system(system="crm", fresh=True)
    assert open_drift() == {("crm", "", DriftKind.ORPHAN, "public_id")}
    assert orphans("crm") == [("sw_0123456789ab", "ab" * 12)]


def test_a_clean_intercom_has_no_orphan(intercom):
    for status in ("active", "past_due", "canceled"):
        synced(status)
    result = reconcile_system(system="crm", fresh=True)
    assert open_drift() == set() and result.finished
    assert len(intercom.asked_after) == 2  # three contacts, two a page: the listing was read to its end


def test_an_interrupted_intercom_listing_follows_and_resumes_from_its_cursor(intercom):
    synced("active")
    for n in range(4):
        contact(intercom, f"sw_ghost{n}", f"{n:024x}")
    first = reconcile_system(system="crm", fresh=True, max_reads=2)  # the customer, then one page
    assert not first.finished and intercom.asked_after == [""]
    saved = DriftPass.objects.get(system="crm").listing_after
    second = reconcile_system(system="crm")
    assert second.resumed and second.finished
    assert intercom.asked_after[1] == saved != ""  # on from the page it stopped at, not from the start
    assert len(intercom.asked_after) == 3 and len(set(intercom.asked_after)) == 3
    assert orphans("crm") == [(f"sw_ghost{n}", f"{n:024x}") for n in range(4)]
