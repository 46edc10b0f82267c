"""A note reaches the CRM once, as a note on the contact with a link back to the 360, after its edit window:
HubSpot (note engagement associated to the contact) and Intercom (contact note), at loopback fakes."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from customers.links import customer_360_url
from customers.models import CustomerNote, ExternalLink, System
from customers.notes import note_edit, note_write
from sync.models import JobStatus, SyncJob
from sync.notes import NOTE_ACTION, SEND_MARGIN
from tests.customers.note_fakes import HubSpotWithNotes, IntercomWithNotes
from tests.sync.conftest import serve, sync_settings  # noqa: F401 - the provider fakes' fixtures
from tests.sync.helpers import customer_with_stripe, run

pytestmark = pytest.mark.django_db


def _after_window(note: CustomerNote):
    return time_machine.travel(note.created_at + timedelta(minutes=CustomerNote.EDIT_MINUTES) + SEND_MARGIN, tick=False)


def _lost_answer(job: SyncJob) -> None:
    """The CRM stored the note but its answer never came back: the job is due again, one attempt spent."""
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.RETRYING, next_attempt_at=timezone.now())


def test_a_note_reaches_hubspot_once_on_the_contact_with_a_link_to_the_360(serve, support):  # noqa: F811
    hub = serve(HubSpotWithNotes())
    customer = customer_with_stripe(email="ada@example.com", name="Ada")
    ExternalLink.objects.create(customer=customer, system=System.CRM, external_id="501", provider="hubspot")
    note = note_write(customer=customer, body="Wants <annual> billing", internal=False, actor=support)
    job = SyncJob.objects.get(action=NOTE_ACTION)
    assert (job.customer, job.system, job.idempotency_key) == (customer, "crm", f"note:{note.pk}:crm:add_note")
    assert run(job) == "not_due" and hub.notes == []  # still editable: nothing sent yet
    with time_machine.travel(note.edit_deadline, tick=False):
        assert run(job) == "not_due"  # the window has just closed: a last-second edit may still be saving
    with _after_window(note):
        assert run(job) == "succeeded"
        _lost_answer(job)
        assert run(job) == "succeeded"  # the retry finds the note instead of writing it again
    assert len(hub.notes) == 1
    sent = hub.notes[0]
    assert sent["associations"][0]["to"]["id"] == "501"
    assert sent["associations"][0]["types"][0]["associationTypeId"] == 202
    body = sent["properties"]["hs_note_body"]
    assert "Wants &lt;annual&gt; billing" in body and customer_360_url(customer.public_id) in body
    assert support.email in body
    assert job.external_id == sent["id"]
    assert not ExternalLink.objects.filter(customer=customer, system="crm").exclude(external_id="501").exists()


def test_a_customer_not_yet_in_hubspot_is_upserted_first_without_billing_facts(serve, support):  # noqa: F811
    hub = serve(HubSpotWithNotes())
    customer = customer_with_stripe(email="bo@example.com", name="Bo")
    note = note_write(customer=customer, body="First contact", internal=False, actor=support)
    with _after_window(note):
        assert run(SyncJob.objects.get(action=NOTE_ACTION)) == "succeeded"
    contact = hub.contacts[customer.public_id]
    assert "switchboard_mrr" not in contact["properties"]  # a note does not overwrite billing facts
    assert hub.notes[0]["associations"][0]["to"]["id"] == contact["id"]


def test_an_edit_inside_the_window_is_what_the_crm_receives(serve, support):  # noqa: F811
    hub = serve(HubSpotWithNotes())
    customer = customer_with_stripe()
    note = note_write(customer=customer, body="Teh typo", internal=False, actor=support)
    note_edit(note=note, body="The fix", actor=support)
    assert SyncJob.objects.filter(action=NOTE_ACTION).count() == 1
    with _after_window(note):
        run(SyncJob.objects.get(action=NOTE_ACTION))
    assert len(hub.notes) == 1 and "The fix" in hub.notes[0]["properties"]["hs_note_body"]


def test_notes_internal_to_finance_never_go_to_the_crm(finance):
    customer = customer_with_stripe()
    note_write(customer=customer, body="Discount agreed", internal=True, actor=finance)
    assert not SyncJob.objects.filter(action=NOTE_ACTION).exists()


def test_a_correction_reaches_the_crm_as_a_new_note_saying_what_it_corrects(serve, support):  # noqa: F811
    hub = serve(HubSpotWithNotes())
    customer = customer_with_stripe()
    first = note_write(customer=customer, body="Plan Basic", internal=False, actor=support)
    second = note_write(customer=customer, body="Plan Pro", internal=False, actor=support, corrects=first)
    with _after_window(second):
        for job in SyncJob.objects.filter(action=NOTE_ACTION).order_by("pk"):
            assert run(job) == "succeeded"
    assert len(hub.notes) == 2
    assert "Correction of the note of" in hub.notes[1]["properties"]["hs_note_body"]


def test_a_note_reaches_intercom_once_as_a_contact_note(serve, settings, support):  # noqa: F811
    settings.SYNC_PROVIDERS = {**settings.SYNC_PROVIDERS, "crm": "intercom"}
    ic = serve(IntercomWithNotes())
    customer = customer_with_stripe(email="cy@example.com", name="Cy")
    note = note_write(customer=customer, body="Asked about SSO", internal=False, actor=support)
    job = SyncJob.objects.get(action=NOTE_ACTION)
    with _after_window(note):
        assert run(job) == "succeeded"
        _lost_answer(job)
        assert run(job) == "succeeded"
    assert len(ic.notes) == 1
    contact = next(iter(ic.contacts.values()))
    assert contact["external_id"] == customer.public_id and ic.notes[0]["contact"]["id"] == contact["id"]
    assert "Asked about SSO" in ic.notes[0]["body"] and customer_360_url(customer.public_id) in ic.notes[0]["body"]
    assert job.external_id == ic.notes[0]["id"]


def test_without_crm_credentials_the_note_is_simulated_and_links_nothing(support):
    customer = customer_with_stripe()
    note = note_write(customer=customer, body="Sandboxed", internal=False, actor=support)
    job = SyncJob.objects.get(action=NOTE_ACTION)
    with _after_window(note):
        assert run(job) == "succeeded"
    assert job.simulated
    assert not ExternalLink.objects.filter(customer=customer, system="crm").exists()


def test_the_360_shows_where_each_note_stands_in_the_crm(serve, client, support, finance):  # noqa: F811
    serve(HubSpotWithNotes())
    customer = customer_with_stripe()
    note = note_write(customer=customer, body="Goes out", internal=False, actor=support)
    note_write(customer=customer, body="Stays in", internal=True, actor=finance)
    client.force_login(finance)
    url = reverse("customer_detail", args=[customer.public_id])
    panel = client.get(url).content.decode().split('id="notes"')[1].split("</section>")[0]
    assert panel.count('class="note-crm"') == 1 and "to the CRM" in panel  # the internal note has none
    with _after_window(note):
        run(SyncJob.objects.get(action=NOTE_ACTION))
    assert "in the CRM" in client.get(url).content.decode()
    SyncJob.objects.filter(action=NOTE_ACTION).update(status=JobStatus.DEAD)
    assert "not in the CRM: failed" in client.get(url).content.decode()
