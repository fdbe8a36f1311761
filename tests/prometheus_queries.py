"""Every PromQL expression of the alert rules and the Grafana dashboard, as a Prometheus can evaluate it.

    python tests/prometheus_queries.py             # prints them as JSON: [{"where": ..., "expr": ...}, ...]
    python tests/prometheus_queries.py --evaluate http://127.0.0.1:9090 [SECONDS]
        # evaluates each over the last SECONDS (600) as Grafana does, prints how many series each
        # returned, and exits 1 when one returned none or failed

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
import sys
import urllib.error
import urllib.parse
import urllib.request
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


def _api(url: str, path: str, params: dict) -> dict:
    request = urllib.request.Request(f"{url.rstrip('/')}/api/v1/{path}", data=urllib.parse.urlencode(params).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)["data"]
    except urllib.error.HTTPError as exc:
        return {"error": json.load(exc).get("error", str(exc))}


def evaluate(url: str, seconds: float = 600) -> list[dict]:
    """Each query evaluated over the last seconds of Prometheus' clock: {where, expr, series, error}."""
    now = float(_api(url, "query", {"query": "time()"})["result"][1])
    found = []
    for query in queries():
        data = _api(url, "query_range", {"query": query["expr"], "start": now - seconds, "end": now, "step": 1})
        found.append(dict(query, series=len(data.get("result", [])), error=data.get("error")))
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print(json.dumps(queries(), indent=1))
        return 0
    if argv[0] != "--evaluate" or len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        results = evaluate(argv[1], float(argv[2]) if len(argv) == 3 else 600)
    except (OSError, KeyError, ValueError) as exc:
        print(f"unable to query Prometheus at {argv[1]}: {exc}", file=sys.stderr)
        return 2
    empty = [r for r in results if not r["series"]]
    for r in results:
        print(f"{r['series']:3} series  {r['where']}: {r['expr']}" + (f"  ERROR {r['error']}" if r["error"] else ""))
    if empty:
        print(f"no data from {len(empty)} of {len(results)} expressions: "
              + "; ".join(r["where"] for r in empty), file=sys.stderr)
    return 1 if empty else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
