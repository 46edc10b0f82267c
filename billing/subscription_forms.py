from datetime import datetime, time

from django import forms
from django.utils import timezone

from billing.models import Subscription
from billing.models import SubscriptionChangeKind as Kind
from billing.subscription_selectors import prices_seen
from billing.subscription_terms import PAUSE_BEHAVIORS

# The inputs each action asks for; the others go straight to the confirmation page.
FIELDS = {
    Kind.CHANGE_PLAN: ("price",),
    Kind.PAUSE_COLLECTION: ("resumes_on", "pause_behavior"),
    Kind.EXTEND_TRIAL: ("trial_ends_on",),
    Kind.CANCEL_NOW: ("with_refund",),
}


def start_of(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class SubscriptionChangeForm(forms.Form):
    """The action's own inputs; fields the action does not use are removed."""

    price = forms.ChoiceField(label="New price", choices=())
    resumes_on = forms.DateField(label="Resume billing on", widget=forms.DateInput(attrs={"type": "date"}))
    pause_behavior = forms.ChoiceField(label="Invoices during the pause", choices=list(PAUSE_BEHAVIORS.items()))
    trial_ends_on = forms.DateField(label="New trial end", widget=forms.DateInput(attrs={"type": "date"}))
    with_refund = forms.BooleanField(label="Refund the unused rest of the period", required=False)
    note = forms.CharField(required=False, max_length=500, strip=True, label="Note (for the audit trail)")

    def __init__(self, *args, subscription: Subscription, kind: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.subscription, self.kind = subscription, kind
        for name in ("price", "resumes_on", "pause_behavior", "trial_ends_on", "with_refund"):
            if name not in FIELDS.get(kind, ()):
                del self.fields[name]
        if "price" in self.fields:
            self.fields["price"].choices = [
                (pid, label) for pid, label in prices_seen(subscription=subscription) if pid != subscription.price_id
            ]

    def clean_resumes_on(self):
        day = self.cleaned_data["resumes_on"]
        if start_of(day) <= timezone.now():
            raise forms.ValidationError("Choose a day after today.")
        return day

    def clean_trial_ends_on(self):
        day = self.cleaned_data["trial_ends_on"]
        current = self.subscription.trial_end
        if current is not None and start_of(day) <= current:
            raise forms.ValidationError(f"Choose a day after the current trial end ({current:%d %b %Y}).")
        return day

    def terms(self) -> dict:
        """The service's keyword arguments for this action."""
        data = self.cleaned_data
        terms: dict = {"note": data.get("note", "")}
        if self.kind == Kind.CHANGE_PLAN:
            terms.update(price_id=data["price"], price_label=dict(self.fields["price"].choices)[data["price"]])
        if self.kind == Kind.PAUSE_COLLECTION:
            terms.update(resumes_at=start_of(data["resumes_on"]), pause_behavior=data["pause_behavior"])
        if self.kind == Kind.EXTEND_TRIAL:
            terms.update(trial_end=start_of(data["trial_ends_on"]))
        if self.kind == Kind.CANCEL_NOW:
            terms.update(with_refund=bool(data.get("with_refund")))
        return terms


class SubscriptionConfirmForm(SubscriptionChangeForm):
    """The confirmation step: the same inputs, hidden, plus the token that makes a second submit harmless and
    (for a plan change) the moment Stripe's preview was computed for."""

    token = forms.CharField(max_length=64, min_length=16)
    proration_date = forms.IntegerField(required=False, min_value=0)

    def clean_proration_date(self):
        value = self.cleaned_data.get("proration_date")
        if self.kind != Kind.CHANGE_PLAN:
            return None
        now = int(timezone.now().timestamp())
        if value is None or not now - 3600 <= value <= now + 60:
            raise forms.ValidationError("The preview is out of date; start again.")
        return value


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, max_length=500, strip=True)
