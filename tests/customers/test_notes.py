"""Notes on a customer: every role writes them, internal ones stay with finance and the owner, the author
edits for 15 minutes, a correction is a new note, and each step is on the audit trail."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from customers.models import CustomerNote
from customers.notes import note_write
from tests import helpers

pytestmark = pytest.mark.django_db


def _write(client, customer, body, *, headers=None, **extra):
    return client.post(reverse("note_create", args=[customer.public_id]), {"body": body, **extra}, headers=headers)


@pytest.mark.parametrize("role", ["owner", "finance", "support"])
def test_every_role_writes_a_note_that_shows_on_the_360_and_the_audit_trail(client, users, role):
    customer = helpers.customer()
    client.force_login(users[role])
    response = _write(client, customer, "Called them: wants the annual plan.")
    assert response.status_code == 302
    note = CustomerNote.objects.get(customer=customer)
    assert (note.author, note.body, note.internal) == (users[role], "Called them: wants the annual plan.", False)
    page = client.get(reverse("customer_detail", args=[customer.public_id])).content.decode()
    assert "Called them: wants the annual plan." in page
    audit = AuditEvent.objects.get(action="customers.note_write", customer=customer)
    assert audit.actor == users[role] and audit.object_id == str(note.pk)
    assert "Note written" in page  # the audit entry is on the 360's timeline


def test_a_person_without_a_role_may_not_write_a_note(client, norole):
    customer = helpers.customer()
    client.force_login(norole)
    assert _write(client, customer, "hello").status_code == 403
    assert not CustomerNote.objects.exists()


def test_an_empty_note_is_refused_and_nothing_is_written(client, support):
    customer = helpers.customer()
    client.force_login(support)
    response = _write(client, customer, "   ", headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    assert not CustomerNote.objects.exists() and not AuditEvent.objects.filter(action__startswith="customers.note").exists()


def test_internal_notes_are_seen_by_finance_and_the_owner_only(client, finance, owner, support):
    customer = helpers.customer()
    client.force_login(finance)
    _write(client, customer, "Refund promised off the record", internal="on")
    assert CustomerNote.objects.get().internal
    url = reverse("customer_detail", args=[customer.public_id])
    assert "Refund promised off the record" in client.get(url).content.decode()
    client.force_login(owner)
    assert "Refund promised off the record" in client.get(url).content.decode()
    client.force_login(support)
    page = client.get(url).content.decode()
    assert "Refund promised off the record" not in page and "note-internal" not in page


def test_support_cannot_write_an_internal_note_even_by_crafting_the_form(client, support):
    customer = helpers.customer()
    client.force_login(support)
    response = _write(client, customer, "secret", internal="on")
    assert response.status_code == 422
    assert "Only finance and the owner" in response.content.decode()
    assert not CustomerNote.objects.exists()


def test_support_cannot_open_an_internal_note_to_correct_it(client, finance, support):
    customer = helpers.customer()
    client.force_login(finance)
    _write(client, customer, "internal", internal="on")
    note = CustomerNote.objects.get()
    client.force_login(support)
    assert client.get(reverse("note_correct", args=[customer.public_id, note.pk])).status_code == 404
    assert client.post(reverse("note_correct", args=[customer.public_id, note.pk]), {"body": "x"}).status_code == 404
    assert CustomerNote.objects.count() == 1


def test_the_author_edits_within_15_minutes_and_the_edit_is_audited(client, support):
    customer = helpers.customer()
    client.force_login(support)
    _write(client, customer, "Frist draft")
    note = CustomerNote.objects.get()
    url = reverse("note_edit", args=[customer.public_id, note.pk])
    with time_machine.travel(note.created_at + timedelta(minutes=14), tick=False):
        assert client.get(url).status_code == 200
        assert client.post(url, {"body": "First draft"}).status_code == 302
    note.refresh_from_db()
    assert note.body == "First draft" and note.edited_at is not None
    assert AuditEvent.objects.filter(action="customers.note_edit", object_id=str(note.pk)).count() == 1


def test_nobody_edits_after_15_minutes_not_even_the_author(client, support):
    customer = helpers.customer()
    client.force_login(support)
    _write(client, customer, "Final words")
    note = CustomerNote.objects.get()
    url = reverse("note_edit", args=[customer.public_id, note.pk])
    with time_machine.travel(note.created_at + timedelta(minutes=15, seconds=1), tick=False):
        assert client.get(url).status_code == 403
        assert client.post(url, {"body": "Changed"}).status_code == 403
    note.refresh_from_db()
    assert note.body == "Final words" and note.edited_at is None


def test_another_person_may_not_edit_a_note_inside_its_window(client, support, owner):
    customer = helpers.customer()
    client.force_login(support)
    _write(client, customer, "Mine")
    note = CustomerNote.objects.get()
    client.force_login(owner)
    url = reverse("note_edit", args=[customer.public_id, note.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"body": "Theirs now"}).status_code == 403
    note.refresh_from_db()
    assert note.body == "Mine"


def test_a_correction_is_a_new_note_pointing_at_the_old_one_which_stays(client, support, finance):
    customer = helpers.customer()
    client.force_login(support)
    _write(client, customer, "Plan is Basic")
    old = CustomerNote.objects.get()
    client.force_login(finance)
    response = client.post(reverse("note_correct", args=[customer.public_id, old.pk]), {"body": "Plan is Pro"})
    assert response.status_code == 302
    new = CustomerNote.objects.exclude(pk=old.pk).get()
    old.refresh_from_db()
    assert (new.corrects, new.author, new.body) == (old, finance, "Plan is Pro")
    assert old.body == "Plan is Basic"
    assert AuditEvent.objects.filter(action="customers.note_correct", object_id=str(new.pk)).exists()
    page = client.get(reverse("customer_detail", args=[customer.public_id])).content.decode()
    assert f'href="#note-{old.pk}"' in page


def test_a_correction_of_an_internal_note_stays_internal(client, finance):
    customer = helpers.customer()
    client.force_login(finance)
    _write(client, customer, "internal", internal="on")
    old = CustomerNote.objects.get()
    client.post(reverse("note_correct", args=[customer.public_id, old.pk]), {"body": "internal, corrected"})
    assert CustomerNote.objects.get(corrects=old).internal


def test_a_note_of_another_customer_cannot_be_edited_through_this_one(client, support):
    first, second = helpers.customer(), helpers.customer()
    client.force_login(support)
    _write(client, first, "on the first")
    note = CustomerNote.objects.get()
    assert client.get(reverse("note_edit", args=[second.public_id, note.pk])).status_code == 404


def test_the_panel_answers_htmx_with_itself_after_a_note(client, owner):
    customer = helpers.customer()
    client.force_login(owner)
    response = _write(client, customer, "via htmx", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="notes"' in body and "via htmx" in body and "<html" not in body
    assert timezone.now() < CustomerNote.objects.get().edit_deadline


def test_the_360_reads_notes_in_a_fixed_number_of_queries(client, owner, support):
    customer = helpers.customer()
    client.force_login(owner)
    url = reverse("customer_detail", args=[customer.public_id])
    note_write(customer=customer, body="one", internal=False, actor=support)
    few = helpers.count_queries(client, url)
    for n in range(20):
        earlier = note_write(customer=customer, body=f"note {n}", internal=bool(n % 2), actor=owner)
        note_write(customer=customer, body=f"fix {n}", internal=False, actor=support, corrects=earlier)
    assert helpers.count_queries(client, url) == few


def _timeline(client, customer) -> str:
    page = client.get(reverse("customer_detail", args=[customer.public_id])).content.decode()
    return page.split('id="timeline"')[1].split("</ol>")[0]


def test_a_note_internal_to_finance_is_not_on_the_timeline_of_who_may_not_read_it(client, finance, owner, support):
    customer = helpers.customer()
    internal = note_write(customer=customer, body="Discount off the record", internal=True, actor=finance)
    note_write(customer=customer, body="Discount, corrected", internal=True, actor=finance, corrects=internal)
    shared = note_write(customer=customer, body="Called them", internal=False, actor=support)

    client.force_login(support)
    timeline = _timeline(client, customer)
    assert "Note written" in timeline and f'href="#note-{shared.pk}"' in timeline  # the note it may read, linked
    assert "internal to finance" not in timeline and "Correction" not in timeline
    assert finance.email not in timeline and f"#note-{internal.pk}" not in timeline
    for reader in (finance, owner):
        client.force_login(reader)
        timeline = _timeline(client, customer)
        assert "Note written (internal to finance)" in timeline
        assert "Correction written (internal to finance)" in timeline
        assert f'href="#note-{internal.pk}"' in timeline


def test_a_note_is_never_deleted_through_any_of_its_addresses(client, support):
    customer = helpers.customer()
    client.force_login(support)
    note = note_write(customer=customer, body="Stays", internal=False, actor=support)
    for url in (reverse("note_create", args=[customer.public_id]),
                reverse("note_edit", args=[customer.public_id, note.pk]),
                reverse("note_correct", args=[customer.public_id, note.pk])):
        assert client.delete(url).status_code == 405
    client.post(reverse("note_edit", args=[customer.public_id, note.pk]), {"body": ""})
    assert CustomerNote.objects.filter(pk=note.pk, body="Stays").exists()


def test_the_audit_trail_and_its_export_carry_no_notes_text_and_support_sees_no_internal_entry(
    client, finance, owner, support
):
    customer = helpers.customer()
    note_write(customer=customer, body="Forty percent off, off the record", internal=True, actor=finance)
    client.force_login(owner)
    export = b"".join(client.post(reverse("audit_export")).streaming_content).decode()
    assert "Note written (internal to finance)" in export and "Forty percent" not in export
    client.force_login(support)
    listed = client.get(reverse("audit_list"), headers={"HX-Request": "true"}).content.decode()
    assert "internal to finance" not in listed and "customers.note" not in listed
