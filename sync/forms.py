from django import forms

from customers.models import System
from sync.models import JobStatus

SYSTEM_CHOICES = [c for c in System.choices if c[0] != System.STRIPE]


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *JobStatus.choices])
    system = forms.ChoiceField(required=False, choices=[("", "Any system"), *SYSTEM_CHOICES])
    action = forms.CharField(required=False, max_length=40)
    customer = forms.CharField(required=False, max_length=20, label="Customer id")
    cursor = forms.CharField(required=False, max_length=200)


class RetrySelectedForm(forms.Form):
    job = forms.TypedMultipleChoiceField(coerce=int, choices=[], error_messages={"required": "Select at least one job."})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; the view checks each job against what this person may retry.
        self.fields["job"].valid_value = lambda value: str(value).isdigit()


class PauseForm(forms.Form):
    reason = forms.CharField(max_length=300, strip=True, error_messages={"required": "Say why you are pausing."})


class SetAsideForm(forms.Form):
    note = forms.CharField(
        max_length=300, strip=True, widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why this job will not be fixed, so the next person knows."},
    )
