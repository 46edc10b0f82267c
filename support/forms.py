import json
import secrets

from django import forms

from support.models import TicketCategory, TicketPriority


def new_token() -> str:
    return secrets.token_urlsafe(16)


class _Styled(forms.Form):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = f"{css} {field.widget.attrs.get('class', '')}".strip()


class _Once(_Styled):
    # One token per rendered form: submitting it twice opens one ticket.
    token = forms.RegexField(
        regex=r"^[A-Za-z0-9_-]{16,64}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form has expired; please send it again.",
            "invalid": "This form has expired; please send it again.",
        },
    )


class CaseForm(_Once):
    subject = forms.CharField(max_length=200)
    category = forms.ChoiceField(choices=TicketCategory.choices)
    priority = forms.ChoiceField(choices=TicketPriority.choices, initial=TicketPriority.NORMAL)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=10_000,
        help_text="What happened, in the customer's words if you have them.",
    )


URGENCY_CHOICES = [
    ("", "Not sure"),
    ("low", "It can wait a few days"),
    ("normal", "I would like an answer today"),
    ("high", "I cannot work or get in until it is fixed"),
]


class SupportRequestForm(_Once):
    name = forms.CharField(
        max_length=200, label="Your name", error_messages={"required": "Please tell us your name."}
    )
    email = forms.EmailField(
        label="Your email",
        help_text="Use the address you signed up with, so we can find your account.",
        error_messages={
            "required": "Please give us an email address to reply to.",
            "invalid": "That does not look like an email address (name@example.com).",
        },
    )
    # No topic is chosen for the person: a guess sends a question to the wrong people.
    category = forms.ChoiceField(
        choices=[("", "Choose a topic"), *TicketCategory.choices],
        label="What is it about?",
        error_messages={
            "required": "Please choose what your message is about.",
            "invalid_choice": "Please choose one of the listed topics.",
        },
    )
    urgency = forms.ChoiceField(
        choices=URGENCY_CHOICES,
        required=False,
        label="How urgent is it for you?",
        error_messages={"invalid_choice": "Please choose one of the listed answers."},
    )
    plan = forms.CharField(
        max_length=100, required=False, label="Your plan, if you know it",
        help_text="As on your invoice (for example Pro). Leave it empty if you are not sure.",
    )
    device = forms.CharField(
        max_length=200, required=False, label="Device and browser, if something is not working",
        help_text="For example: iPhone 15, Safari; or Windows laptop, Chrome.",
    )
    message = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=10_000,
        label="Your message",
        error_messages={
            "required": "Please write your message.",
            "max_length": "Please keep your message under 10,000 characters.",
        },
    )
    # Hidden from people (and from screen readers); bots fill every field they find.
    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def clean_message(self) -> str:
        message = self.cleaned_data["message"].strip()
        if len(message) < 10:
            raise forms.ValidationError("Please tell us a little more (at least 10 characters).")
        return message

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website", "").strip())


class RoutingRuleForm(_Styled):
    rules = forms.CharField(widget=forms.Textarea(attrs={"rows": 24, "class": "font-monospace"}))
    note = forms.CharField(
        max_length=300, required=False, help_text="Why you changed them (kept with the version)."
    )
    base_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_rules(self) -> dict:
        try:
            value = json.loads(self.cleaned_data["rules"])
        except ValueError as exc:
            raise forms.ValidationError(f"The rules are not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The rules must be a JSON object.")
        return value


class TicketChangeForm(_Once):
    """A person's change of a desk ticket: any of status, priority and group, and/or a reply or a comment."""

    status = forms.ChoiceField(required=False, label="Status")
    priority = forms.ChoiceField(required=False, label="Priority")
    group = forms.ChoiceField(required=False, label="Group")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=10_000, label="Reply or comment",
        error_messages={"max_length": "Please keep it under 10,000 characters."},
    )
    visibility = forms.ChoiceField(
        choices=[("internal", "Internal comment (agents only)"), ("public", "Public reply (the customer gets it)")],
        initial="internal", required=False, label="Who sees it",
    )

    def __init__(self, *args, ticket, statuses, groups: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        keep = [("", "Keep as it is")]
        self.fields["status"].choices = keep + [(s.value, s.label) for s in statuses]
        self.fields["priority"].choices = keep + list(TicketPriority.choices)
        self.fields["group"].choices = keep + [(g, g) for g in groups]
        self.ticket = ticket

    def clean(self) -> dict:
        data = super().clean()
        if not (data.get("status") or data.get("priority") or data.get("group") or data.get("body", "").strip()):
            raise forms.ValidationError("Nothing to change: choose a new status, priority or group, or write a reply.")
        return data

    def change(self) -> dict:
        """The service's arguments."""
        data = self.cleaned_data
        return {"token": data["token"], "status": data["status"], "priority": data["priority"],
                "group": data["group"], "body": data["body"], "public": data["visibility"] == "public"}
