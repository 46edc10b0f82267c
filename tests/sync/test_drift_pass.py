"""A reconcile pass against loopback tools that hold state: it finds exactly the differences from
billing truth, and none on a clean tool; a repair makes the next pass clean."""

import pytest

from customers.models import Customer
from sync.models import DriftKind, DriftResolution, JobStatus, SyncJob, ToolDrift
from sync.providers import provider_for
from sync.ratelimit import rate_reserve
from sync.services.drift import drift_ignore, drift_open, drift_repair, drift_repair_bulk, reconcile_system
from tests.sync import drift_fakes
from tests.sync.drift_helpers import open_drift, run_open_jobs, synced
from tests.sync.helpers import make_job

pytestmark = pytest.mark.django_db
SYSTEMS = ("crm", "support", "community", "email")


@pytest.fixture
def tools(serve, settings, tmp_path):
    settings.DRIFT_READ_SHARE = 1.0
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    settings.SYNC_RATE_LIMITS = {name: (10_000, 1) for name in settings.SYNC_RATE_LIMITS}
    return {"crm": serve(drift_fakes.HubSpot()), "support": serve(drift_fakes.Zendesk()),
            "community": serve(drift_fakes.Circle()), "email": serve(drift_fakes.Kit())}


def reconcile_all() -> None:
    for system in SYSTEMS:
        reconcile_system(system=system, fresh=True)


def diverge(tools, a, b, c, d) -> None:
    hub, zd, circle, kit = tools["crm"], tools["support"], tools["community"], tools["email"]
    del hub.contacts[d.public_id]  # someone deleted a paying customer's contact
    hub.contacts[a.public_id]["properties"]["switchboard_status"] = "canceled"  # edited by hand
    hub.contacts[b.public_id]["properties"]["email"] = "someone.else@example.com"
    hub.contacts["sw_ghost"] = {"id": "9999", "properties": {"switchboard_id": "sw_ghost", "email": "g@example.com"}}
    zd.users[a.public_id]["tags"] = ["canceled", "Pro"]
    circle.members[c.email] = {"id": 777, "email": c.email, "name": c.name, "member_tags": []}  # canceled, still in
    del circle.members[d.email]  # active, removed by hand
    kit.tagged.add((kit.tags.setdefault("customer", 5555), kit.subscribers[b.email]["id"]))  # an old Zap


def test_a_clean_tool_shows_no_difference(tools):
    for status in ("active", "past_due", "canceled"):
        synced(status)
    reconcile_all()
    assert open_drift() == set()


def test_the_pass_finds_exactly_each_kind_of_difference(tools):
    a, b, c, d = synced("active"), synced("past_due"), synced("canceled"), synced("active")
    diverge(tools, a, b, c, d)
    reconcile_all()
    assert open_drift() == {
        ("crm", d.public_id, DriftKind.MISSING, ""),
        ("crm", a.public_id, DriftKind.WRONG_VALUE, "status"),
        ("crm", b.public_id, DriftKind.IDENTITY_MISMATCH, "email"),
        ("crm", "", DriftKind.ORPHAN, "public_id"),
        ("support", a.public_id, DriftKind.WRONG_VALUE, "status"),
        ("community", c.public_id, DriftKind.ACCESS_EXTRA, "access"),
        ("community", d.public_id, DriftKind.ACCESS_MISSING, ""),
        ("email", b.public_id, DriftKind.WRONG_VALUE, "tag:customer"),
    }
    wrong = ToolDrift.objects.get(system="crm", kind=DriftKind.WRONG_VALUE)
    assert (wrong.expected, wrong.actual) == ("active", "canceled")


def test_a_second_pass_keeps_one_row_per_difference(tools):
    a, b, c, d = synced("active"), synced("past_due"), synced("canceled"), synced("active")
    diverge(tools, a, b, c, d)
    reconcile_all()
    first = set(drift_open().values_list("pk", flat=True))
    reconcile_all()
    assert set(drift_open().values_list("pk", flat=True)) == first


def test_repair_puts_every_tool_right_and_the_next_pass_is_clean(tools, owner):
    a, b, c, d = synced("active"), synced("past_due"), synced("canceled"), synced("active")
    diverge(tools, a, b, c, d)
    reconcile_all()
    for drift in drift_open().exclude(kind=DriftKind.ORPHAN):
        assert drift_repair(drift=drift, actor=owner)
    run_open_jobs()
    orphan = drift_open().get()
    drift_ignore(drift=orphan, note="A test contact from the sales team", actor=owner)
    reconcile_all()
    assert open_drift() == set()
    assert ToolDrift.objects.filter(resolution=DriftResolution.REPAIRED).count() == 7
    assert tools["crm"].contacts[b.public_id]["properties"]["email"] == b.email  # our identity, never theirs


def test_a_repair_twice_writes_its_jobs_once(tools, owner):
    a = synced("active")
    del tools["crm"].contacts[a.public_id]
    reconcile_system(system="crm")
    drift = drift_open().get()
    jobs = drift_repair(drift=drift, actor=owner)
    ToolDrift.objects.filter(pk=drift.pk).update(resolved_at=None, resolution="")
    drift.refresh_from_db()
    assert len(jobs) == 1 and drift_repair(drift=drift, actor=owner) == []


def test_a_customer_with_work_on_its_way_is_left_for_the_next_pass(tools):
    a = synced("active")
    del tools["crm"].contacts[a.public_id]
    make_job("crm", "upsert_contact", a)  # pending: it will put the contact back
    result = reconcile_system(system="crm")
    assert (result.checked, result.skipped_customers, open_drift()) == (0, 1, set())


def test_a_customer_whose_job_died_is_the_dead_jobs_business_not_drift(tools):
    a = synced("active")
    del tools["crm"].contacts[a.public_id]
    job = make_job("crm", "upsert_contact", a)
    job.status = JobStatus.DEAD
    job.save(update_fields=["status"])  # already in the queue, with its retry
    result = reconcile_system(system="crm")
    assert (result.checked, result.skipped_customers, open_drift()) == (0, 1, set())


def test_a_customer_whose_identity_awaits_review_is_not_judged(tools):
    a = synced("active")
    Customer.objects.filter(pk=a.pk).update(status="needs_review")
    del tools["crm"].contacts[a.public_id]
    assert reconcile_system(system="crm").checked == 0 and open_drift() == set()


def test_intercom_as_the_crm_is_read_by_our_external_id(serve, settings, tmp_path):
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "crm": "intercom"}
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    intercom = serve(drift_fakes.Intercom())
    a, b = synced("active"), synced("active")
    contact = next(c for c in intercom.contacts.values() if c["external_id"] == a.public_id)
    contact["custom_attributes"]["status"] = "canceled"
    reconcile_system(system="crm")
    assert open_drift() == {("crm", a.public_id, DriftKind.WRONG_VALUE, "status")}
    assert b.public_id not in {d.customer.public_id for d in drift_open()}


def test_bulk_repair_of_one_kind_shows_its_plan_first_then_fixes_the_kind_and_the_next_pass_is_clean(tools, owner):
    members = [synced("canceled") for _ in range(3)]
    kept = synced("active")
    circle = tools["community"]
    for c in members:  # let back in by hand
        circle.members[c.email] = {"id": 700 + c.pk, "email": c.email, "name": c.name, "member_tags": []}
    del tools["crm"].contacts[kept.public_id]  # another kind, in another tool: not part of the bulk repair
    reconcile_all()

    plan = drift_repair_bulk(system="community", kind=DriftKind.ACCESS_EXTRA, actor=owner, dry_run=True)

    assert sorted((d.customer.public_id, what) for d, what in plan) == sorted((c.public_id, "revoke access")
                                                                              for c in members)
    assert not SyncJob.objects.filter(idempotency_key__startswith="drift:").exists()
    drift_repair_bulk(system="community", kind=DriftKind.ACCESS_EXTRA, actor=owner)
    run_open_jobs()
    assert not any(c.email in circle.members for c in members)
    reconcile_all()
    assert open_drift() == {("crm", kept.public_id, DriftKind.MISSING, "")}


def test_reads_wait_behind_the_jobs_that_took_the_tools_budget_first(tools, settings):
    synced("active")
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "hubspot": (10, 1)}
    pauses: list[float] = []
    reconcile_system(system="crm", customer=Customer.objects.get(), sleep=pauses.append, fresh=True)
    assert pauses == []  # a full bucket: the read goes at once
    rate_reserve(provider=provider_for("crm"), actions=["upsert_contact"] * 30)  # live work: three seconds' worth
    reconcile_system(system="crm", customer=Customer.objects.get(), sleep=pauses.append, fresh=True)
    assert pauses and pauses[0] >= 1.5  # the read waits its turn behind the jobs, in the same bucket


def test_a_one_customer_pass_takes_one_reads_tokens_and_leaves_the_rest_to_the_jobs(tools, settings):
    synced("active")
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "hubspot": (10, 1)}
    reconcile_system(system="crm", customer=Customer.objects.get(), fresh=True)
    waits = rate_reserve(provider=provider_for("crm"), actions=["upsert_contact"] * 8)
    assert max(waits) == 0  # the jobs find the other nine tokens (less rounding) still there
