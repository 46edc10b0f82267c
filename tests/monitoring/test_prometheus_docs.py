"""docs/prometheus/alerts.yml and docs/grafana/switchboard.json ask only for metrics /metrics exports."""

import json
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from monitoring.metrics import exported_samples

pytestmark = pytest.mark.django_db
DOCS = Path(settings.BASE_DIR) / "docs"
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                "offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects: identifiers that are not functions, keywords or labels."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # string literals (label values, legend text)
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range durations
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)  # label lists
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        word, rest = match.group(), expr[match.end():].lstrip()
        if rest.startswith("(") or word.lower() in PROMQL_WORDS:
            continue  # a function call or a keyword
        names.add(word)
    return names


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((DOCS / "prometheus" / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DOCS / "grafana" / "switchboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_the_name_parser_finds_series_and_skips_functions_keywords_and_labels():
    expr = ('sum by (system) (increase(switchboard_sync_job_attempts_total{outcome!="ok"}[15m])) '
            "unless on (system) max by (system) (switchboard_system_paused) == 1 or time() - up > 5 * 60")
    assert metric_names(expr) == {"switchboard_sync_job_attempts_total", "switchboard_system_paused", "up"}


def test_every_alert_rule_asks_only_for_exported_metrics():
    exported = exported_samples()
    rules = alert_rules()
    assert {rule["alert"] for rule in rules} >= {
        "SwitchboardWebhookFailureRate", "SwitchboardJobFailureRate", "SwitchboardSystemDown", "SwitchboardBacklog",
        "SwitchboardNoWebhook", "SwitchboardSignatureFailures", "SwitchboardSignInFailureRate",
        "SwitchboardHeartbeatStale",
    }
    for rule in rules:
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        assert names <= exported, f"{rule['alert']} asks for {sorted(names - exported)}"


def test_the_dashboard_parses_and_charts_only_exported_metrics_including_every_alerted_one():
    exported = exported_samples()
    charted = set()
    for expr in dashboard_exprs():
        names = metric_names(expr)
        assert names and names <= exported, f"{expr} asks for {sorted(names - exported)}"
        charted |= names
    alerted = set().union(*(metric_names(rule["expr"]) for rule in alert_rules()))
    assert alerted <= charted, f"alerted but not charted: {sorted(alerted - charted)}"
