"""Jobs that ran in sandbox are marked simulated wherever they are shown, and once the tool has
credentials they are sent to it for real: by ``replay_simulated`` or by the owner's button."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEvent
from billing.models import StripeEvent
from customers.models import Customer, CustomerStatus, CustomerStatusChange
from support.models import Ticket
from sync.models import JobStatus, SyncJob
from tests.sync import fakes
from tests.sync.helpers import billing_change, customer_with_stripe, make_job, run

pytestmark = pytest.mark.django_db

TRIAL = {"status": "trial", "plan": "Pro", "mrr": 0, "currency": "usd"}
ACTIVE = {"status": "active", "plan": "Pro", "mrr": 4900, "currency": "usd"}
PAST_DUE = {**ACTIVE, "status": "past_due"}


def simulated_crm_job(customer=None) -> SyncJob:
    """An upsert that ran while HubSpot had no credentials (carrying the customer's values of today)."""
    customer = customer or customer_with_stripe(mrr=4900)
    job = make_job("crm", "upsert_contact", customer=customer, lifecycle_stage="customer")
    assert run(job) == "succeeded"
    assert job.simulated, "it ran in sandbox"
    return job


def send(*args) -> str:
    out = io.StringIO()
    call_command("replay_simulated", *args, stdout=out)
    return out.getvalue()


# --- marking ----------------------------------------------------------------------------


def test_a_job_that_succeeds_in_sandbox_is_marked_simulated_and_a_real_one_is_not(serve):
    simulated = simulated_crm_job()
    serve(fakes.HubSpot())
    real = make_job("crm", "upsert_contact")
    assert run(real) == "succeeded"
    assert (simulated.simulated, real.simulated) == (True, False)


def test_simulated_jobs_are_marked_on_every_screen_that_shows_them(client, owner):
    job = simulated_crm_job()
    client.force_login(owner)
    badge = ">simulated</span>"
    assert badge in client.get(reverse("job_list")).content.decode()
    detail = client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert badge in detail and "nothing was sent to the real tool" in detail
    customer = client.get(reverse("customer_detail", args=[job.customer.public_id])).content.decode()
    sync_state = customer.split('id="sync-state"', 1)[1].split("</table>", 1)[0]
    assert badge in sync_state
    timeline = customer.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    assert "upsert_contact: succeeded (simulated: nothing was sent)" in timeline
    systems = client.get(reverse("system_list")).content.decode()
    crm = systems.split('id="system-crm"', 1)[1].split("</tr>", 1)[0]
    assert badge in crm and "1 job not sent" in crm and "HubSpot has no credentials (HUBSPOT_ACCESS_TOKEN)" in crm
    assert "Send 1 simulated" not in crm, "no button while HubSpot still runs in sandbox"


def test_a_real_job_carries_no_simulated_mark(serve, client, owner):
    serve(fakes.HubSpot())
    job = make_job("crm", "upsert_contact")
    run(job)
    client.force_login(owner)
    assert ">simulated</span>" not in client.get(reverse("job_detail", args=[job.pk])).content.decode()
    assert ">simulated</span>" not in client.get(reverse("job_list")).content.decode()


# --- the command ------------------------------------------------------------------------


def test_replay_is_refused_while_the_tool_still_runs_in_sandbox(settings):
    simulated_crm_job()
    with pytest.raises(CommandError, match="crm still runs in sandbox: HubSpot needs HUBSPOT_ACCESS_TOKEN"):
        send("--system", "crm", "--apply")
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "crm": "sandbox"}
    with pytest.raises(CommandError, match="runs in sandbox by choice"):
        send("--system", "crm")
    assert SyncJob.objects.count() == 1 and not SyncJob.objects.filter(replayed_at__isnull=False).exists()


def test_the_dry_run_prints_the_plan_and_changes_nothing(serve):
    fresh = simulated_crm_job()
    stale = simulated_crm_job()
    Customer.objects.filter(pk=stale.customer_id).update(status=CustomerStatus.PAST_DUE)
    hub = serve(fakes.HubSpot())
    out = send("--system", "crm")
    assert f"#{fresh.pk} will do: will upsert contact in HubSpot" in out
    assert f"#{stale.pk} would change: would send today's values to HubSpot: status active to past_due" in out
    assert "would send 2 of 2 simulated crm jobs to HubSpot (dry run: --apply sends them)" in out
    assert SyncJob.objects.count() == 2 and not SyncJob.objects.filter(replayed_at__isnull=False).exists()
    assert hub.calls == [] and not AuditEvent.objects.filter(action="sync.simulated_replay").exists()


def test_apply_writes_one_job_per_simulated_job_once_and_a_second_apply_writes_none(
    serve, django_capture_on_commit_callbacks
):
    jobs = [simulated_crm_job() for _ in range(3)]
    hub = serve(fakes.HubSpot())
    with django_capture_on_commit_callbacks(execute=True):
        assert "sent 3 of 3 simulated crm jobs to HubSpot" in send("--system", "crm", "--apply")
    replays = SyncJob.objects.filter(replay_of__isnull=False)
    assert sorted(replays.values_list("replay_of_id", flat=True)) == sorted(j.pk for j in jobs)
    assert all(r.idempotency_key == f"replay:{r.replay_of.idempotency_key}" for r in replays)
    assert set(replays.values_list("status", "simulated")) == {(JobStatus.SUCCEEDED, False)}
    assert len(hub.contacts) == 3, "the replayed jobs arrived at HubSpot"
    writes = hub.writes()  # one shared request or one each: HubSpot takes contacts in batches
    entry = AuditEvent.objects.get(action="sync.simulated_replay")
    assert entry.source == "command" and sorted(entry.changes["sent"]) == sorted(replays.values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        again = send("--system", "crm", "--apply")
    assert "sent 0 of 0" in again
    assert SyncJob.objects.filter(replay_of__isnull=False).count() == 3 and hub.writes() == writes


def test_a_job_a_later_one_brought_up_to_date_is_settled_without_being_sent(serve, django_capture_on_commit_callbacks):
    customer = customer_with_stripe()
    older, newer = simulated_crm_job(customer), simulated_crm_job(customer)
    hub = serve(fakes.HubSpot())
    out = send("--system", "crm")
    assert f"#{older.pk} already done: a later job (#{newer.pk}) brings it up to date" in out
    with django_capture_on_commit_callbacks(execute=True):
        send("--system", "crm", "--apply")
    assert list(SyncJob.objects.filter(replay_of__isnull=False).values_list("replay_of_id", flat=True)) == [newer.pk]
    assert SyncJob.objects.filter(pk__in=[older.pk, newer.pk], replayed_at__isnull=False).count() == 2
    assert len(hub.calls) == 1


def test_a_replay_sends_todays_values_through_the_pipeline_and_never_touches_billing(
    serve, django_capture_on_commit_callbacks
):
    """Simulated jobs written by real billing changes, then sent once HubSpot and Zendesk are connected."""
    customer = customer_with_stripe(email="ada@example.com")
    changes = [("customer.subscription.updated", TRIAL, ACTIVE), ("invoice.payment_failed", ACTIVE, PAST_DUE)]
    for event_type, before, after in changes:  # the failed payment also opens a ticket
        with django_capture_on_commit_callbacks(execute=True):
            billing_change(customer, event_type, before, after)
    Customer.objects.filter(pk=customer.pk).update(status=CustomerStatus.PAST_DUE)
    assert not SyncJob.objects.exclude(status=JobStatus.SUCCEEDED).exists()
    assert SyncJob.objects.filter(simulated=True).count() == SyncJob.objects.count()
    ticket = Ticket.objects.get()
    assert ticket.external_id.startswith("sandbox-")
    events, changes = list(StripeEvent.objects.values_list("pk", "status")), CustomerStatusChange.objects.count()

    hub, desk = serve(fakes.HubSpot()), serve(fakes.Zendesk())
    with django_capture_on_commit_callbacks(execute=True):
        send("--system", "crm", "--apply")
        send("--system", "support", "--apply")
    contact = hub.contacts[customer.public_id]["properties"]
    assert contact["switchboard_status"] == "past_due", "the contact carries today's values"
    assert [t["external_id"] for t in desk.tickets] == [
        SyncJob.objects.get(replay_of__action="create_ticket").idempotency_key]
    ticket.refresh_from_db()
    assert ticket.external_id == str(desk.tickets[0]["id"]), "our ticket now points at the real desk's"
    assert list(StripeEvent.objects.values_list("pk", "status")) == events
    assert CustomerStatusChange.objects.count() == changes


# --- the button on the systems page ----------------------------------------------------


def test_the_owner_previews_then_sends_and_follows_the_progress(serve, client, owner, django_capture_on_commit_callbacks):
    jobs = [simulated_crm_job() for _ in range(2)]
    hub = serve(fakes.HubSpot())
    client.force_login(owner)
    systems = client.get(reverse("system_list")).content.decode()
    url = reverse("system_send_simulated", args=["crm"])
    assert f'href="{url}"' in systems and "Send 2 simulated jobs to HubSpot" in systems

    preview = client.get(url).content.decode()
    assert "Send 2 simulated crm jobs to HubSpot?" in preview
    assert f"#{jobs[0].pk}</a> <strong>will do</strong>" in preview
    assert not SyncJob.objects.filter(replay_of__isnull=False).exists() and hub.calls == []

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert SyncJob.objects.filter(replay_of__isnull=False).count() == 2 and len(hub.contacts) == 2
    assert AuditEvent.objects.get(action="sync.simulated_replay").actor == owner
    progress = client.get(response.url).content.decode()
    assert "Sending 2 simulated crm jobs to HubSpot" in progress and "2 of 2" in progress
    assert "Send 2 simulated" not in client.get(reverse("system_list")).content.decode()


def test_the_button_refuses_while_the_tool_still_runs_in_sandbox(client, owner):
    simulated_crm_job()
    client.force_login(owner)
    url = reverse("system_send_simulated", args=["crm"])
    assert "HubSpot needs HUBSPOT_ACCESS_TOKEN" in client.get(url).content.decode()
    response = client.post(url, follow=True)
    assert "still runs in sandbox" in response.content.decode()
    assert SyncJob.objects.count() == 1


@pytest.mark.parametrize("role", ["finance", "support", "norole"])
def test_only_the_owner_may_send_simulated_jobs(serve, client, users, role):
    simulated_crm_job()
    serve(fakes.HubSpot())
    client.force_login(users[role])
    url = reverse("system_send_simulated", args=["crm"])
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert SyncJob.objects.count() == 1 and not SyncJob.objects.filter(replayed_at__isnull=False).exists()
    if role != "norole":
        assert "Send 1 simulated" not in client.get(reverse("system_list")).content.decode()
