from django import forms


class ResolveForm(forms.Form):
    note = forms.CharField(max_length=500, strip=True, error_messages={"required": "Write what you did first."})
