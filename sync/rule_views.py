"""The owner's screen for mapping rules: what each billing fact causes in each system.

Each system's rules are a form of rows; "Review changes" shows the difference from the
version in force and what the sample customer's systems would be sent, and only then
"Save" adds a version. The raw JSON stays available as an advanced view.
"""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from audit.models import Source
from core.http import is_rules_check, redirect_after_post, rules_check_answer
from core.jsondiff import json_diff
from customers.models import Customer
from sync.errors import SyncError
from sync.rule_editor import PRIORITY_CHOICES, preview, rows_for, rules_from_post
from sync.rules import SYNCED_SYSTEMS, rules_problems
from sync.services import mapping_rule_edit, mapping_rule_history, mapping_rules_current


class MappingRuleForm(forms.Form):
    """The rules as JSON text: the advanced view, and what "Save" sends after the review."""

    rules = forms.CharField(widget=forms.Textarea(attrs={"rows": 14, "class": "form-control font-monospace"}))
    note = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs={"class": "form-control"}))
    base_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_rules(self) -> dict:
        try:
            value = json.loads(self.cleaned_data["rules"])
        except ValueError as exc:
            raise forms.ValidationError(f"Enter a valid JSON document: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The rules are a JSON object ({...}) of named settings.")
        return value


def as_json(rules: dict) -> str:
    return json.dumps(rules, indent=2, sort_keys=True)


def sample_customer() -> dict:
    """The customer the preview is made for: the first live one on a plan, or a made-up one."""
    found = Customer.objects.live().exclude(plan="").order_by("pk").values("public_id", "plan", "mrr", "currency").first()
    if found:
        return {"label": f"{found['public_id']} on {found['plan']}", "plan": found["plan"], "mrr": found["mrr"],
                "currency": found["currency"]}
    return {"label": "a made-up customer on Pro", "plan": "Pro", "mrr": 4900, "currency": "usd"}


def _entries(bound: dict | None = None) -> list[dict]:
    current = mapping_rules_current()
    entries = []
    for system in SYNCED_SYSTEMS:
        rule = current[system]
        mine = bound if bound and bound["system"] == system else {}
        entries.append({
            "system": system,
            "rule": rule,
            "editor": mine.get("editor") or rows_for(system, rule.rules),
            "form": mine.get("form") or MappingRuleForm(initial={"rules": as_json(rule.rules), "base_version": rule.version}),
            "review": mine.get("review"),
            "advanced": mine.get("advanced", False),
            "history": list(mapping_rule_history(system=system)[:10]),
        })
    return entries


def _page(request: HttpRequest, *, bound: dict | None = None, status: int = 200) -> HttpResponse:
    context = {"systems": _entries(bound), "priorities": PRIORITY_CHOICES}
    return render(request, "sync/mapping_rules.html", context, status=status)


@require_GET
@permission_required("sync.edit_mapping", raise_exception=True)
def mapping_rules(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _review(system: str, current, rules: dict, note: str) -> dict:
    sample = sample_customer()
    rows = []
    state = {key: sample[key] for key in ("plan", "mrr", "currency")}
    for step in preview(system, rules, sample=state, compare_with=current.rules):
        label = f"{step.label} (differs from now)" if step.changed else step.label
        for job in step.jobs or [None]:
            sent = {k: v for k, v in job.payload.items() if k not in ("mrr", "currency")} if job else {}
            rows.append({"changed": step.changed,
                         "cells": [label, job.action if job else "nothing", json.dumps(sent, sort_keys=True) if job else ""]})
    return {
        "changes": json_diff(current.rules, rules),
        "preview_head": ["When", "Job", "Sent"],
        "preview_rows": rows,
        "sample": sample["label"],
        "form": MappingRuleForm(initial={"rules": as_json(rules), "note": note, "base_version": current.version}),
    }


@require_POST
@permission_required("sync.edit_mapping", raise_exception=True)
def mapping_rule_save(request: HttpRequest, system: str) -> HttpResponse:
    """``step=review`` reads the rows (or the advanced JSON) and shows the review; otherwise save ``rules``."""
    if system not in SYNCED_SYSTEMS:
        raise Http404("No such system")
    current = mapping_rules_current()[system]
    if is_rules_check(request):
        return rules_check_answer(request, current=current.rules, json_form=MappingRuleForm,
                                  from_rows=lambda data: rules_from_post(system, data, current.rules),
                                  problems_of=lambda rules: rules_problems(system, rules))
    if request.POST.get("step") == "review":
        return _review_step(request, system, current)
    form = MappingRuleForm(request.POST)
    if form.is_valid():
        base = form.cleaned_data["base_version"]
        if "base_version" in request.POST and base != current.version:
            form.add_error("rules", "Someone saved these rules since you opened them; review the newest version.")
        else:
            try:
                rule = mapping_rule_edit(
                    system=system, rules=form.cleaned_data["rules"], note=form.cleaned_data["note"],
                    actor=request.user, source=Source.UI,
                )
            except SyncError as exc:
                form.add_error("rules", str(exc))
            else:
                messages.success(request, f"Saved {system} rules as version {rule.version}; new jobs use it.")
                return redirect_after_post(request, reverse("mapping_rules") + f"#rules-{system}")
    return _page(request, bound={"system": system, "form": form, "advanced": True}, status=400)


def _review_step(request: HttpRequest, system: str, current) -> HttpResponse:
    note = request.POST.get("note", "")[:300]
    if request.POST.get("mode") == "json":
        form = MappingRuleForm(request.POST)
        if not form.is_valid():
            return _page(request, bound={"system": system, "form": form, "advanced": True}, status=400)
        rules = form.cleaned_data["rules"]
        editor = rows_for(system, rules)
        errors = {}
    else:
        rules, errors = rules_from_post(system, request.POST, current.rules)
        editor = rows_for(system, current.rules, data=request.POST, errors=errors)
        form = None
    problems = list(errors.values()) or rules_problems(system, rules)
    if problems:
        editor.errors = errors or {"__all__": " ".join(problems)}
        bound = {"system": system, "editor": editor, "form": form, "advanced": form is not None}
        if form is not None:
            form.add_error("rules", " ".join(problems))
        return _page(request, bound=bound, status=400)
    review = _review(system, current, rules, note)
    return _page(request, bound={"system": system, "editor": editor, "review": review})
