from django import forms
from django.contrib.auth import get_user_model


class AuditFilterForm(forms.Form):
    actor = forms.ModelChoiceField(queryset=get_user_model().objects.none(), required=False, empty_label="Anyone")
    action = forms.CharField(required=False, max_length=60, help_text="e.g. refund.approved, or refund. for all")
    customer = forms.CharField(required=False, max_length=20, label="Customer id (sw_…)")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    cursor = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The staff model through Django: audit sits below accounts, which records its actions here.
        self.fields["actor"].queryset = get_user_model().objects.order_by("email")

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {k: data.get(k) or ("" if k in ("action", "customer") else None) for k in
                ("actor", "action", "customer", "since", "until")}
