from decimal import Decimal

from django import forms

from billing.models import Charge, RefundReason, RefundStatus
from billing.refund_selectors import charges_refundable_for
from core.money import to_minor


class RefundForm(forms.Form):
    charge = forms.ModelChoiceField(queryset=Charge.objects.none(), to_field_name="stripe_id", empty_label=None)
    amount = forms.DecimalField(
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=3,  # the most any currency has (KWD); to_minor refuses what the charge's currency lacks
        help_text="Leave empty to refund everything still refundable.",
    )
    reason = forms.ChoiceField(choices=RefundReason.choices)
    note = forms.CharField(required=False, max_length=500, strip=True, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["charge"].queryset = charges_refundable_for(customer=customer)

    def amount_minor(self, refundable: int) -> int | None:
        """The amount in the charge's minor units (all that is refundable when left empty); None when the
        currency cannot express it (the form then carries the error)."""
        amount = self.cleaned_data.get("amount")
        if amount is None:
            return refundable
        try:
            return to_minor(amount, self.cleaned_data["charge"].currency)
        except ValueError as exc:
            self.add_error("amount", str(exc))
            return None


class RefundConfirmForm(RefundForm):
    """The confirmation step: the same fields, hidden, plus the token that makes a second submit harmless."""

    token = forms.CharField(max_length=64, min_length=16)

    def clean_amount(self):
        amount = self.cleaned_data.get("amount")
        if amount is None:
            raise forms.ValidationError("The amount is missing; start again.")
        charge = self.cleaned_data.get("charge")
        if charge is not None:
            try:
                to_minor(amount, charge.currency)
            except ValueError as exc:
                raise forms.ValidationError(str(exc)) from None
        return amount


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, max_length=500, strip=True)


class RefundFilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *RefundStatus.choices])


