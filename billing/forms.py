from django import forms

from billing.models import EventStatus


class EventFilterForm(forms.Form):
    type = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *EventStatus.choices])
    q = forms.CharField(required=False, max_length=255, label="Event or customer id")
    cursor = forms.CharField(required=False, max_length=200)
