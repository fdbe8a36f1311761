"""The alert rules and the Grafana dashboard against the export's own list of metrics, and promtool's tests.

promtool comes with Debian's prometheus package, which scripts/setup installs: without it these
tests fail, they do not skip. The prometheus scenario (molecule/prometheus) evaluates the same
expressions against a real Prometheus scraping a real node_exporter.
"""

import json
import shutil
import subprocess

import pytest
from ansible.module_utils.baseline_catalogue import CATALOGUE
from conftest import PROJECT
from metrics import PREFIX, metric_names
from prometheus_queries import (
    DASHBOARD,
    METRIC,
    RULES,
    TEMPLATE_VARIABLES,
    alert_rules,
    dashboard_panels,
    queries,
    series_query,
    substitute_variables,
    top_level_comparisons,
    variable_selector,
)

RULE_TESTS = PROJECT / "prometheus" / "deploy-baseline.rules.test.yml"
GOLDEN_METRICS = PROJECT / "tests" / "golden" / "metrics_written.prom"


def promtool(*args, stdin=None):
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (apt-get install prometheus; "
                    "scripts/setup does)")
    return subprocess.run([tool, *args], input=stdin, capture_output=True, text=True, cwd=RULES.parent, check=False)


def dashboard():
    return json.loads(DASHBOARD.read_text())


def targets():
    return [(panel["title"], target["expr"]) for panel in dashboard_panels(dashboard())
            for target in panel.get("targets", [])]


def test_promtool_checks_the_rules():
    result = promtool("check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_tests_pass():
    result = promtool("test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_lints_the_export():
    result = promtool("check", "metrics", stdin=GOLDEN_METRICS.read_text())
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_is_tested_firing_and_not_firing():
    import yaml

    cases = [case for test in yaml.safe_load(RULE_TESTS.read_text())["tests"] for case in test["alert_rule_test"]]
    for rule in alert_rules():
        own = [case for case in cases if case["alertname"] == rule["alert"]]
        assert any(case["exp_alerts"] for case in own), f"{rule['alert']} is never tested firing"
        assert any(not case["exp_alerts"] for case in own), f"{rule['alert']} is never tested not firing"


def test_rules_and_dashboard_use_only_exported_metrics():
    """A renamed or removed metric would leave a dead panel or a silent alert."""
    exported = set(metric_names())
    used = {f"alert {rule['alert']}": rule["expr"] for rule in alert_rules()}
    used.update({f"panel {title!r}": expr for title, expr in targets()})
    used.update({f"variable {v['name']}": v["definition"] for v in dashboard()["templating"]["list"]
                 if v["type"] == "query"})
    for where, expr in used.items():
        names = set(METRIC.findall(expr))
        assert names, f"{where} uses no deploy_baseline_ metric: {expr}"
        assert names <= exported, f"{where} uses {sorted(names - exported)}, which the export never writes"
    # Label values that name metrics (the regression's figure) come from the same list.
    for rule in alert_rules():
        assert set(METRIC.findall(json.dumps(rule.get("annotations", {})))) <= exported


def test_the_dashboard_shows_every_summary_figure_the_verdict_and_the_endpoint_latencies():
    single = {expr.split("{")[0] for _, expr in targets()}
    for metric in CATALOGUE:
        assert PREFIX + metric.prometheus_name in single, f"no panel shows {metric.key}"
    for name in ("deploy_baseline_endpoint_cold_seconds", "deploy_baseline_endpoint_warm_p50_seconds",
                 "deploy_baseline_verdict_status"):
        assert name in single, f"no panel shows {name}"


def test_the_dashboard_is_provisionable_with_its_template_variables():
    board = dashboard()
    assert board["uid"] == "deploy-baseline" and board["title"]
    assert "id" not in board and "__inputs" not in board  # file provisioning sets the id; no import prompts
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for name in TEMPLATE_VARIABLES:
        assert variables[name]["type"] == "query" and variables[name]["allValue"] == ".*", name
        assert variable_selector(variables[name]["definition"]).startswith("deploy_baseline_")
    for panel in dashboard_panels(board):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            for name in TEMPLATE_VARIABLES:  # every query follows every variable
                assert f'{name}=~"${name}"' in target["expr"], f"{panel['title']}: {name} not applied"
    ids = [panel["id"] for panel in dashboard_panels(board)]
    assert len(ids) == len(set(ids))


def test_every_expression_is_listed_for_the_scenario():
    listed = queries()
    assert len(listed) == len(alert_rules()) + len(targets()) + len(TEMPLATE_VARIABLES)
    assert all("$" not in q["expr"] for q in listed)


@pytest.mark.parametrize(("expr", "series"), [
    ('x{status="critical"} == 1', 'x{status="critical"} == bool 1'),
    ("time() - a > b", "time() - a > bool b"),
    ("(a - time()) / 86400 < 14", "(a - time()) / 86400 < bool 14"),
    ("a >= bool 1", "a >= bool 1"),
    ('max by (host) (a{x=~"<|>"}) != 0', 'max by (host) (a{x=~"<|>"}) != bool 0'),
])
def test_series_query_makes_the_comparison_bool(expr, series):
    assert series_query(expr) == series


@pytest.mark.parametrize(("expr", "found"), [("a", 0), ("a > 1 and b < 2", 2), ('a{x="1"} + (b > 1)', 0)])
def test_series_query_needs_one_top_level_comparison(expr, found):
    assert len(top_level_comparisons(expr)) == found
    with pytest.raises(ValueError, match=f"expected one top-level comparison in .*, found {found}"):
        series_query(expr)


def test_substitute_variables():
    assert substitute_variables('a{host=~"$host",color=~"${color}"}') == 'a{host=~".*",color=~".*"}'
    with pytest.raises(ValueError, match="unknown template variable"):
        substitute_variables('a{x=~"$__interval"}')
