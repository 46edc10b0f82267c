"""reconcile_tools: the bar, the dry run, --apply, resuming an interrupted pass, and reads paced
within their share of each tool's budget."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sync.models import ToolDrift, DriftPass, SyncJob
from sync.services.drift import reconcile_system, reconcile_tools_slice
from sync.tasks import reconcile_tools_daily
from tests.sync import drift_fakes
from tests.sync.drift_helpers import open_drift, run_open_jobs, synced

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub(serve, settings, tmp_path):
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "hubspot": (10_000, 1)}
    return serve(drift_fakes.HubSpot())


def command(*args) -> str:
    out = io.StringIO()
    call_command("reconcile_tools", *args, stdout=out)
    return out.getvalue()


def test_the_dry_run_prints_the_differences_and_records_nothing(hub):
    a = synced("active")
    del hub.contacts[a.public_id]
    out = command("--system", "crm", "--dry-run")
    assert f"crm {a.public_id} missing" in out and "1 differences" in out and "[" + "#" * 30 + "]" in out
    assert not ToolDrift.objects.exists() and not DriftPass.objects.exists()


def test_apply_repairs_what_it_finds_and_the_next_pass_is_clean(hub):
    a = synced("active")
    hub.contacts[a.public_id]["properties"]["lifecyclestage"] = "lead"
    out = command("--system", "crm", "--apply")
    assert "1 differences, 1 repairs sent" in out
    assert SyncJob.objects.filter(action="upsert_contact", idempotency_key__startswith="drift:").count() == 1
    run_open_jobs()
    command("--system", "crm")
    assert open_drift() == set()
    assert hub.contacts[a.public_id]["properties"]["lifecyclestage"] == "customer"


def test_one_customer_only(hub):
    a, b = synced("active"), synced("active")
    del hub.contacts[a.public_id], hub.contacts[b.public_id]
    command("--system", "crm", "--customer", b.public_id)
    assert open_drift() == {("crm", b.public_id, "missing", "")}
    with pytest.raises(CommandError, match="No customer sw_nobody"):
        command("--customer", "sw_nobody")


def test_an_interrupted_pass_resumes_without_reading_again_what_it_finished(hub, settings):
    customers = [synced("active") for _ in range(6)]
    del hub.contacts[customers[1].public_id]
    reads = hub.reads()
    stop_after = 3

    original = hub.get

    def failing_after(request, key):  # the tool goes down after three reads
        if hub.reads() - reads >= stop_after:
            raise drift_fakes.Reply(503, {"message": "down"})
        return original(request, key)

    hub.get = failing_after
    with pytest.raises(CommandError, match="stopped answering after 3 customers"):
        command("--system", "crm")
    assert DriftPass.objects.get().cursor == customers[2].pk
    hub.get = original
    before = [path for _, _, path in hub.times]
    out = command("--system", "crm")
    read_again = [path for _, method, path in hub.times[len(before):] if method == "GET"]
    assert "(resumed): 3 customers checked" in out
    assert read_again == [f"/crm/v3/objects/contacts/{c.public_id}" for c in customers[3:]]
    assert open_drift() == {("crm", customers[1].public_id, "missing", "")}
    assert DriftPass.objects.get().finished_at is not None


def test_reads_stay_within_their_share_of_the_tools_budget(hub, settings):
    customers = [synced("active") for _ in range(12)]
    assert customers
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "hubspot": (10, 1)}  # 10 requests a second
    settings.DRIFT_READ_SHARE = 0.4  # reads: at most 4 of them
    start = len(hub.times)
    command("--system", "crm")
    reads = drift_fakes.HubSpot.most_in_any_window
    hub.times = hub.times[start:]
    assert len(hub.times) >= 12
    assert reads(hub, 1.0) <= 4


def test_the_daily_pass_skips_itself_while_every_system_runs_in_sandbox(settings, tmp_path):
    settings.SANDBOX_STATE_PATH = str(tmp_path / "sandbox.sqlite3")
    assert reconcile_tools_daily() == "skipped: every system runs in sandbox"
    assert not DriftPass.objects.exists()


def test_the_scheduled_pass_reads_a_share_of_each_window_per_slice_and_resumes(hub, settings):
    customers = [synced("active") for _ in range(10)]
    del hub.contacts[customers[-1].public_id]
    settings.SYNC_RATE_LIMITS = {**settings.SYNC_RATE_LIMITS, "hubspot": (10, 1)}
    settings.DRIFT_READ_SHARE = 0.4  # four reads of HubSpot's ten a second, per slice
    before = hub.reads()
    assert reconcile_tools_slice(start=True) == 1.0  # HubSpot's window: the next slice may run in a second
    assert hub.reads() - before == 4
    assert reconcile_tools_slice(start=False) == 1.0
    assert reconcile_tools_slice(start=False) == 1.0  # the last two customers, the orphan search's first pages
    assert reconcile_tools_slice(start=False) is None  # its last pages
    assert hub.reads() - before == 15  # ten customers and five pages of contacts (two a page)
    assert open_drift() == {("crm", customers[-1].public_id, "missing", "")}
    assert DriftPass.objects.get(system="crm").finished_at is not None


@pytest.mark.parametrize("hour, scheduled", [("6", "6"), ("-1", "off")])
def test_the_daily_pass_runs_at_the_hour_the_setting_names_or_not_at_all(hour, scheduled):
    code = ("from config import settings as s; e = s.CELERY_BEAT_SCHEDULE.get('sync-reconcile-tools-daily'); "
            "print(','.join(map(str, sorted(e['schedule'].hour))) if e else 'off', e and e['task'])")
    env = {**os.environ, "DRIFT_DAILY_HOUR": hour, "DJANGO_ENV": "development"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == scheduled
    if scheduled != "off":
        assert out.stdout.split()[1] == reconcile_tools_daily.name


def test_a_pass_stopped_by_ctrl_c_keeps_what_it_read_and_the_next_run_reads_only_the_rest(hub):
    customers = [synced("active") for _ in range(5)]

    def stop_after_two(done, total):
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reconcile_system(system="crm", progress=stop_after_two)
    assert DriftPass.objects.get().cursor == customers[1].pk
    start = len(hub.times)
    result = reconcile_system(system="crm")
    read_again = [path for _, method, path in hub.times[start:] if method == "GET"]
    assert result.resumed and result.checked == 3
    assert read_again == [f"/crm/v3/objects/contacts/{c.public_id}" for c in customers[2:]]
