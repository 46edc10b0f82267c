from django import forms

from webhooks import catalog, slack
from webhooks.models import PERSONAL_FIELDS

_TEXT = {"class": "form-control form-control-sm"}


class EndpointForm(forms.Form):
    url = forms.CharField(max_length=500, label="Address", widget=forms.URLInput(
        attrs={**_TEXT, "placeholder": "https://hooks.example.com/switchboard"}))
    description = forms.CharField(max_length=200, required=False, label="Description",
                                  widget=forms.TextInput(attrs=_TEXT))
    event_types = forms.MultipleChoiceField(
        required=False, label="Events", widget=forms.CheckboxSelectMultiple,
        choices=[(event.name, event.name) for event in catalog.CATALOG])


class SlackRouteForm(forms.Form):
    url = forms.CharField(max_length=500, label="Incoming webhook address", widget=forms.URLInput(
        attrs={**_TEXT, "placeholder": "https://hooks.slack.com/services/…"}))
    description = forms.CharField(max_length=200, required=False, label="Channel",
                                  widget=forms.TextInput(attrs={**_TEXT, "placeholder": "#revenue"}))
    notices = forms.MultipleChoiceField(required=False, label="Notices", widget=forms.CheckboxSelectMultiple,
                                        choices=list(slack.NOTICES.items()))
    refund_threshold = forms.DecimalField(
        min_value=0, max_digits=12, decimal_places=2, initial=0, required=False,
        label="Tell refunds above (in the currency's main unit)",
        widget=forms.NumberInput(attrs={**_TEXT, "step": "0.01"}))
    personal_fields = forms.MultipleChoiceField(
        required=False, label="Also name the customer by", widget=forms.CheckboxSelectMultiple,
        choices=list(PERSONAL_FIELDS.items()),
        help_text="Our id and plan are always there; nothing else unless you tick it.")


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=300, label="Why", widget=forms.TextInput(attrs=_TEXT))
