"""The owner's screen for mapping rules: what each billing fact causes in each system."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from audit.models import Source
from sync.errors import SyncError
from sync.rules import SYNCED_SYSTEMS
from sync.services import mapping_rule_edit, mapping_rule_history, mapping_rules_current


class MappingRuleForm(forms.Form):
    rules = forms.JSONField(widget=forms.Textarea(attrs={"rows": 14, "class": "form-control font-monospace"}))
    note = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs={"class": "form-control"}))


def _forms(bound_system: str | None = None, bound: MappingRuleForm | None = None) -> list[dict]:
    current = mapping_rules_current()
    return [
        {
            "system": system,
            "rule": current[system],
            "form": bound if system == bound_system else MappingRuleForm(
                initial={"rules": json.dumps(current[system].rules, indent=2, sort_keys=True)}
            ),
            "history": list(mapping_rule_history(system=system)[:10]),
        }
        for system in SYNCED_SYSTEMS
    ]


@require_GET
@permission_required("sync.edit_mapping", raise_exception=True)
def mapping_rules(request: HttpRequest) -> HttpResponse:
    return render(request, "sync/mapping_rules.html", {"systems": _forms()})


@require_POST
@permission_required("sync.edit_mapping", raise_exception=True)
def mapping_rule_save(request: HttpRequest, system: str) -> HttpResponse:
    if system not in SYNCED_SYSTEMS:
        raise Http404("No such system")
    form = MappingRuleForm(request.POST)
    if form.is_valid():
        try:
            rule = mapping_rule_edit(
                system=system, rules=form.cleaned_data["rules"], note=form.cleaned_data["note"],
                actor=request.user, source=Source.UI,
            )
        except SyncError as exc:
            form.add_error("rules", str(exc))
        else:
            messages.success(request, f"Saved {system} rules as version {rule.version}; new jobs use it.")
            return redirect("mapping_rules")
    return render(request, "sync/mapping_rules.html", {"systems": _forms(system, form)}, status=400)
