"""The 360's notes: write one (or a correction), and edit your own within its window."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from audit.models import Source
from core.http import redirect_after_post
from customers.models import Customer, CustomerNote
from customers.notes import (
    BODY_LIMIT,
    may_read_internal,
    note_crm_states,
    note_edit,
    note_for,
    note_write,
    notes_for,
)
from customers.services import CustomerError
from customers.views import get_customer_for


class NoteForm(forms.Form):
    body = forms.CharField(label="Note", max_length=BODY_LIMIT, strip=True,
                           widget=forms.Textarea(attrs={"rows": 3}))
    internal = forms.BooleanField(label="Internal to finance (finance and the owner only; not sent to the CRM)",
                                  required=False)


def notes_context(request: HttpRequest, customer: Customer, form: NoteForm | None = None) -> dict:
    """What ``customers/_notes.html`` shows; the 360 reads it through the ``customer_notes`` tag."""
    user = request.user
    notes = list(notes_for(customer=customer, user=user))
    states = note_crm_states(notes)
    for note in notes:
        note.crm = states.get(note.pk)
    return {
        "customer": customer,
        "notes": notes,
        "note_form": form or NoteForm(),
        "may_internal": may_read_internal(user),
        "edit_minutes": CustomerNote.EDIT_MINUTES,
        "user": user,
        "now": timezone.now(),
        "csrf_token": get_token(request),
    }


def _note_of(request: HttpRequest, customer: Customer, pk: int) -> CustomerNote:
    note = note_for(customer=customer, pk=pk, user=request.user)
    if note is None:
        raise Http404("No such note on this customer.")
    return note


def _panel(request: HttpRequest, customer: Customer, form: NoteForm, status: int) -> HttpResponse:
    return render(request, "customers/_notes.html", notes_context(request, customer, form), status=status)


@require_POST
def note_create(request: HttpRequest, public_id: str) -> HttpResponse:
    customer = get_customer_for(request, public_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            note_write(customer=customer, actor=request.user, source=Source.UI, **form.cleaned_data)
        except CustomerError as exc:
            form.add_error(None, str(exc))
        else:
            if request.htmx:
                return _panel(request, customer, NoteForm(), 200)
            return redirect_after_post(request, reverse("customer_detail", args=[customer.public_id]) + "#notes")
    if request.htmx:
        return _panel(request, customer, form, 422)
    return render(request, "customers/_notes_page.html",
                  {**notes_context(request, customer, form), "title": "Write a note"}, status=422)


@require_http_methods(["GET", "POST"])
def note_edit_view(request: HttpRequest, public_id: str, pk: int) -> HttpResponse:
    customer = get_customer_for(request, public_id)
    note = _note_of(request, customer, pk)
    if not note.editable_by(request.user):
        raise PermissionDenied("Only the author may edit a note, within its first minutes.")
    form = NoteForm(request.POST or None, initial={"body": note.body})
    if request.method == "POST" and form.is_valid():
        try:
            note_edit(note=note, body=form.cleaned_data["body"], actor=request.user, source=Source.UI)
        except CustomerError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect_after_post(request, reverse("customer_detail", args=[customer.public_id]) + "#notes")
    return render(request, "customers/_notes_page.html",
                  {"customer": customer, "note_form": form, "note": note, "title": "Edit your note",
                   "action": reverse("note_edit", args=[customer.public_id, note.pk])},
                  status=422 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def note_correct_view(request: HttpRequest, public_id: str, pk: int) -> HttpResponse:
    customer = get_customer_for(request, public_id)
    note = _note_of(request, customer, pk)
    form = NoteForm(request.POST or None, initial={"body": note.body, "internal": note.internal})
    if request.method == "POST" and form.is_valid():
        try:
            note_write(customer=customer, actor=request.user, corrects=note, source=Source.UI, **form.cleaned_data)
        except CustomerError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect_after_post(request, reverse("customer_detail", args=[customer.public_id]) + "#notes")
    return render(request, "customers/_notes_page.html",
                  {"customer": customer, "note_form": form, "note": note, "title": "Correct a note", "correcting": True,
                   "may_internal": may_read_internal(request.user) and not note.internal,
                   "action": reverse("note_correct", args=[customer.public_id, note.pk])},
                  status=422 if request.method == "POST" else 200)
