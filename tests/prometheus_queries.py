"""Every PromQL expression of the alert rules and the Grafana dashboard, as a Prometheus can evaluate it.

    python tests/prometheus_queries.py     # prints them as JSON: [{"where": ..., "expr": ...}, ...]

The unit tests check the metric names they use against filter_plugins/metrics.py; the prometheus
scenario (molecule/prometheus) evaluates each against a real Prometheus and expects data.

- An alert fires on a comparison, so it returns nothing while all is well: its series query is the
  same expression with ``bool`` after its one top-level comparison, which returns 0 or 1 for every
  series the alert watches.
- A dashboard query has its template variables replaced by ``.*``, as "All" does; a template
  variable's ``label_values(SELECTOR, label)`` is evaluated as its SELECTOR.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parent.parent
RULES = PROJECT / "prometheus" / "deploy-baseline.rules.yml"
DASHBOARD = PROJECT / "grafana" / "deploy-baseline.json"
TEMPLATE_VARIABLES = ("environment", "service", "host", "color")
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
METRIC = re.compile(r"\bdeploy_baseline_[a-z0-9_]+")


def top_level_comparisons(expr: str) -> list[tuple[int, str]]:
    """(position, operator) of each comparison outside brackets and strings."""
    found, depth, quote, i = [], 0, None, 0
    while i < len(expr):
        char = expr[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "\"'`":
            quote = char
        elif char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
        elif depth == 0:
            operator = next((op for op in COMPARISONS if expr.startswith(op, i)), None)
            if operator:
                found.append((i, operator))
                i += len(operator)
                continue
        i += 1
    return found


def series_query(expr: str) -> str:
    """The alert expression with ``bool`` after its one top-level comparison."""
    comparisons = top_level_comparisons(expr)
    if len(comparisons) != 1:
        raise ValueError(f"expected one top-level comparison in {expr!r}, found {len(comparisons)}")
    (position, operator), = comparisons
    end = position + len(operator)
    if expr[end:].lstrip().startswith("bool"):
        return expr
    return f"{expr[:end]} bool{expr[end:]}"


def substitute_variables(expr: str) -> str:
    """A dashboard query with each template variable as "All" (``.*``); fails on any other variable."""
    for name in TEMPLATE_VARIABLES:
        expr = re.sub(rf"\$\{{{name}\}}|\${name}\b", ".*", expr)
    if "$" in expr:
        raise ValueError(f"unknown template variable in {expr!r}")
    return expr


def alert_rules(path: Path = RULES) -> list[dict]:
    return [rule for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"] if "alert" in rule]


def dashboard_panels(dashboard: dict) -> list[dict]:
    """Every panel, those inside collapsed rows included."""
    panels = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def variable_selector(definition: str) -> str:
    match = re.fullmatch(r"label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)", definition.strip())
    if not match:
        raise ValueError(f"expected label_values(SELECTOR, label), got {definition!r}")
    return match.group(1)


def queries(rules: Path = RULES, dashboard_path: Path = DASHBOARD) -> list[dict]:
    """{where, expr}: what to evaluate for each alert rule, dashboard target and template variable."""
    found = [{"where": f"alert {rule['alert']}", "expr": series_query(rule["expr"])} for rule in alert_rules(rules)]
    dashboard = json.loads(dashboard_path.read_text())
    for panel in dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            found.append({"where": f"panel {panel['title']!r} {target['refId']}",
                          "expr": substitute_variables(target["expr"])})
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            found.append({"where": f"variable {variable['name']}",
                          "expr": substitute_variables(variable_selector(variable["definition"]))})
    return found


if __name__ == "__main__":
    print(json.dumps(queries(), indent=1))
