"""The alert rules and the Grafana dashboard in ``deploy/`` query only metrics the bot exports.

``promtool check rules`` and ``promtool test rules`` (in ``.ci/run``) check the rules' syntax and
that each alert fires when it should; this checks their metric names against the registry, so a
renamed metric cannot leave an alert that never fires.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.docs.metrics_reference import exported_names

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "alerts.yaml"
DASHBOARD = ROOT / "deploy" / "grafana" / "approvals-bot.json"
ALERTS_PAGE = ROOT / "docs" / "operating" / "alerts.md"

# What the operating page says to watch, one metric each.
WATCHED = {
    "slack_auth_errors_total",
    "notifier_polls_total",
    "notifier_leader",
    "commerce_login_paused",
    "approvals_decisions_total",
}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool"}
_KEYWORDS |= {"offset", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords and label names left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges and subqueries
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    text = re.sub(r"\$\w+", " ", text)  # Grafana variables
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        following = text[match.end() :].lstrip()
        if following.startswith("(") or match.group() in _KEYWORDS:
            continue
        names.add(match.group())
    return names


def _rules() -> list[dict[str, Any]]:
    data = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in data["groups"] for rule in group["rules"]]


def _dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", [])]


def test_the_metric_name_reader_finds_names_and_skips_functions_labels_and_keywords() -> None:
    expr = (
        'sum by (poller) (increase(notifier_polls_total{outcome="error"}[15m])) > 0 '
        "unless on (poller) rate(not_exported_total[$__rate_interval]) or absent(up) or vector(0)"
    )

    assert metric_names(expr) == {"notifier_polls_total", "not_exported_total", "up"}


@pytest.mark.parametrize("source", ["rules", "dashboard"])
def test_every_query_uses_only_metrics_the_bot_exports(source: str) -> None:
    exprs = [str(rule["expr"]) for rule in _rules()] if source == "rules" else _dashboard_exprs()
    used = set().union(*(metric_names(expr) for expr in exprs))

    assert exprs
    assert used - exported_names() == set()


def test_the_rules_and_the_dashboard_watch_what_the_operating_page_says_to_watch() -> None:
    in_rules = set().union(*(metric_names(str(rule["expr"])) for rule in _rules()))
    in_dashboard = set().union(*(metric_names(expr) for expr in _dashboard_exprs()))

    assert in_rules >= WATCHED
    assert in_dashboard >= WATCHED | in_rules


def test_the_alerts_page_lists_every_alert_the_rules_define() -> None:
    page = ALERTS_PAGE.read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `(ApprovalsBot\w+)` \|", page, re.MULTILINE))

    assert listed == {rule["alert"] for rule in _rules()}
