from django import forms

from accounts.models import User
from customers.models import CustomerStatus
from customers.selectors import SyncState


class CustomerFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=255, label="Search")
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *CustomerStatus.choices])
    plan = forms.CharField(required=False, max_length=100)
    sync = forms.ChoiceField(required=False, choices=[("", "Any sync state"), *SyncState.choices])
    cursor = forms.CharField(required=False, max_length=200)

    def search_filters(self) -> dict[str, str]:
        """customer_search's arguments: the list and its CSV export read the same filters."""
        f = self.cleaned_data if self.is_valid() else {}
        return {"query": f.get("q", ""), "status": f.get("status", ""), "plan": f.get("plan", ""),
                "sync": f.get("sync", "")}


OVERRIDE_CHOICES = [c for c in CustomerStatus.choices if c[0] != CustomerStatus.NEEDS_REVIEW]


class OverrideForm(forms.Form):
    status = forms.ChoiceField(choices=OVERRIDE_CHOICES)
    reason = forms.CharField(max_length=300, strip=True)
    expires_at = forms.DateTimeField(
        label="Expires", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )


def staff_choices():
    return User.objects.filter(is_active=True, groups__isnull=False).distinct().order_by("email")


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_choices()


class MergeForm(forms.Form):
    other = forms.CharField(max_length=20)
    keep = forms.ChoiceField(choices=[("this", "Keep this record"), ("other", "Keep the other record")])


class DistinctForm(forms.Form):
    other = forms.CharField(max_length=20)
    note = forms.CharField(max_length=300, required=False, strip=True)
