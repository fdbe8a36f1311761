"""The trend: reading a host's baselines, noise bands, regressions, and the report the role renders.

The history is eight baselines baseline.yml wrote on a demo target (tests/fixtures/history); the
trend reports rendered from it are pinned by golden files in tests/golden. After an intended
change, regenerate them with UPDATE_GOLDEN=1 pytest tests/unit/test_trend.py and read the diff.
"""

import json
import os
import re

import jsonschema
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from baseline import METRICS
from conftest import FIXTURES, PROJECT
from trend import FIGURES, FilterModule

F = FilterModule().filters()
HISTORY = sorted((FIXTURES / "history").glob("*Z.yml"))
GOLDEN = PROJECT / "tests" / "golden"
TEMPLATE = PROJECT / "roles" / "trend" / "templates" / "trend.md.j2"
SCHEMA = json.loads((PROJECT / "schemas" / "baseline.schema.json").read_text())


def texts():
    return [p.read_text() for p in HISTORY]


def history():
    return F["baseline_history"](texts(), [str(p) for p in HISTORY])


def synthetic(values, metric="api_response_time_cold_ms", start_hour=0):
    """Baselines whose summary has these values for one figure, and 1.0 for the others."""
    return [{"host": "h", "service": "s", "environment": "e", "color": "blue", "verdict": "ok",
             "measured_at": f"2026-01-{1 + (start_hour + n) // 24:02d}T{(start_hour + n) % 24:02d}:00:00Z",
             "summary": {m: (v if m == metric else 1.0) for m in FIGURES}} for n, v in enumerate(values)]


def render(trend_record):
    templar = Templar(loader=DataLoader(), variables={"trend_record": trend_record})
    return templar.template(trust_as_template(TEMPLATE.read_text()))


def check_golden(name, text):
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; if intended, run with UPDATE_GOLDEN=1 and review the diff"


def test_the_recorded_history_validates_against_the_schema():
    for path in HISTORY:
        jsonschema.validate(yaml.safe_load(path.read_text()), SCHEMA)


def test_history_reads_what_a_whole_parse_reads():
    for path, head in zip(HISTORY, history(), strict=True):
        whole = yaml.safe_load(path.read_text())
        assert head == {"host": whole["host"], "environment": whole["environment"], "service": whole["service"],
                        "color": whole["color"], "measured_at": whole["measured_at"],
                        "verdict": whole["verdict"]["status"], "summary": whole["summary"]}


def test_history_reads_a_file_of_another_layout_whole():
    whole = yaml.safe_load(HISTORY[0].read_text())
    as_json = json.dumps(whole)  # JSON is YAML too, but has no top-level keys at line starts
    assert F["baseline_history"]([as_json]) == F["baseline_history"]([HISTORY[0].read_text()])


@pytest.mark.parametrize(("text", "message"), [
    ("summary: [unclosed\n", "baseline_history: f.yml is not valid YAML"),
    ("host: demo\n", "baseline_history: f.yml is not a baseline record (no summary)"),
    ("- 1\n- 2\n", "baseline_history: f.yml is not a baseline record (no summary)"),
    ("measured_at: '2026-11-29 18:00'\nsummary: {}\n",
     "baseline_history: f.yml has no UTC measured_at (YYYY-MM-DDTHH:MM:SSZ): '2026-11-29 18:00'"),
    ("measured_at: '2026-11-29T18:00:00Z'\nsummary: {uptime_s: 7 min}\n",
     "baseline_history: f.yml: summary.uptime_s is not a number: '7 min'"),
])
def test_history_errors_name_the_file(text, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["baseline_history"]([text], ["f.yml"])


@pytest.mark.parametrize(("args", "message"), [
    (("text",), "baseline_history: expected the baseline files' texts as a list of strings"),
    (([1],), "baseline_history: expected the baseline files' texts as a list of strings"),
    ((["a", "b"], ["a.yml"]), "baseline_history: 2 texts but 1 names"),
])
def test_history_input_errors(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["baseline_history"](*args)


def test_noise_band_is_median_plus_minus_k_scaled_mad_with_a_floor():
    band = F["noise_band"]([10, 11, 9, 10, 12], k=3, floor_pct=10)
    assert (band["median"], band["mad"], band["points"]) == (10, 1, 5)
    assert band["high"] == pytest.approx(10 + 3 * 1.4826)
    assert band["low"] == pytest.approx(10 - 3 * 1.4826)
    flat = F["noise_band"]([4, 4, 4], k=3, floor_pct=10)
    assert (flat["low"], flat["high"]) == pytest.approx((3.6, 4.4))
    assert F["noise_band"]([1, 5, 9], k=3, floor_pct=0)["low"] == 0  # never below 0


@pytest.mark.parametrize("earlier", [[], "1,2", [1, None], [True]])
def test_noise_band_errors(earlier):
    with pytest.raises(AnsibleFilterError, match=r"^noise_band: expected"):
        F["noise_band"](earlier)


def test_figures_are_the_baselines():
    assert list(FIGURES) == list(METRICS)
    for metric, figure in FIGURES.items():
        assert figure.label == METRICS[metric]["label"]
        assert figure.better == ("none" if metric == "uptime_s" else METRICS[metric]["better"])


def test_a_step_up_of_a_lower_is_better_figure_is_a_regression():
    trend = F["baseline_trend"](synthetic([10, 11, 9, 10, 10, 11, 30, 10]), min_points=5)
    cold = trend["figures"][0]
    assert [r["measured_at"] for r in trend["regressions"]] == ["2026-01-01T06:00:00Z"]
    assert trend["regressions"][0]["value"] == 30
    assert trend["regressions"][0]["delta_pct"] == 200.0
    assert [p["flags"]["api_response_time_cold_ms"] for p in trend["table"]] == [
        "", "", "", "", "", "within", "regression", "within"]
    assert (cold["first"], cold["previous"], cold["last"], cold["delta_pct"], cold["delta_first_pct"]) == (
        10, 30, 10, -66.7, 0.0)
    assert cold["flag"] == "within" and cold["regressions"] == 1


def test_a_drop_of_a_higher_is_better_figure_is_a_regression_and_a_rise_an_improvement():
    trend = F["baseline_trend"](synthetic([90, 91, 89, 90, 90, 50, 99.9], "cache_hit_rate_pct"), min_points=5)
    hit = next(f for f in trend["figures"] if f["metric"] == "cache_hit_rate_pct")
    flags = [p["flags"]["cache_hit_rate_pct"] for p in trend["table"]]
    assert flags[5:] == ["regression", "improvement"]
    assert hit["band"]["high"] == 99  # 90 + 10 %, the floor: MAD is 0
    assert F["baseline_trend"](synthetic([99.5] * 6, "cache_hit_rate_pct"))["figures"][2]["band"]["high"] == 100


def test_uptime_is_not_judged_and_too_few_points_are_learning():
    trend = F["baseline_trend"](synthetic([1, 100, 10_000], "uptime_s"))
    figures = {f["metric"]: f for f in trend["figures"]}
    assert figures["uptime_s"]["flag"] == "not judged" and figures["uptime_s"]["band"] is None
    assert figures["api_response_time_cold_ms"]["flag"] == "learning"
    assert trend["regression_count"] == 0


def test_nulls_are_left_out_of_bands_and_charts():
    values = [10, None, 10, 10, None, 10, 10, 10, 40]
    trend = F["baseline_trend"](synthetic(values), min_points=5)
    cold = trend["figures"][0]
    assert cold["measured"] == 7 and cold["chart"]["data"] == [10, 10, 10, 10, 10, 10, 40]
    assert len(cold["chart"]["labels"]) == 7
    assert cold["previous"] == 10 and cold["flag"] == "regression"
    assert trend["table"][1]["flags"]["api_response_time_cold_ms"] == ""


def test_the_band_looks_only_at_the_window():
    # A new level becomes normal once it fills the window: the work per point stays bounded.
    trend = F["baseline_trend"](synthetic([10] * 5 + [20] * 10), window=5, min_points=5)
    flags = [p["flags"]["api_response_time_cold_ms"] for p in trend["table"]]
    assert flags[5:8] == ["regression"] * 3 and flags[-1] == "within"


def test_rows_limit_the_lists_not_the_figures_or_charts():
    trend = F["baseline_trend"](synthetic([10] * 5 + [30] * 3 + [10] * 12), rows=4, min_points=5)
    assert trend["count"] == 20
    assert [p["number"] for p in trend["table"]] == [17, 18, 19, 20]
    assert trend["regression_count"] == 3 and len(trend["regressions"]) == 3
    assert len(F["baseline_trend"](synthetic([10] * 5 + [30] * 3), rows=2)["regressions"]) == 2
    cold = trend["figures"][0]
    assert len(cold["chart"]["data"]) == 20 and cold["chart"]["labels"] is None  # numbered beyond 12 points
    assert len(F["baseline_trend"](synthetic([10] * 20), rows=0)["table"]) == 20


def test_the_points_are_put_in_time_order():
    points = synthetic([1, 2, 3])
    trend = F["baseline_trend"](list(reversed(points)))
    assert [p["measured_at"] for p in trend["table"]] == [p["measured_at"] for p in points]


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (([],), {}, "baseline_trend: expected a non-empty list of baselines (baseline_history)"),
    (([{"measured_at": "x"}],), {}, "baseline_trend: every baseline needs a summary"),
    ((synthetic([1]),), {"k": -1}, "baseline_trend: k must be a number of at least 0, got -1"),
    ((synthetic([1]),), {"window": 0}, "baseline_trend: window must be a number of at least 1, got 0"),
    ((synthetic([1]),), {"min_points": "5"}, "baseline_trend: min_points must be a number of at least 1, got '5'"),
    ((synthetic([1]),), {"rows": True}, "baseline_trend: rows must be a number of at least 0, got True"),
])
def test_baseline_trend_errors_name_the_filter(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["baseline_trend"](*args, **kwargs)


CASES = {
    # The role's defaults: eight real points, the last three judged.
    "trend.md": {},
    # A tight band (1 x MAD, 2 % floor) over the same history, to show how regressions render.
    "trend_tight_band.md": {"k": 1, "floor_pct": 2, "min_points": 3, "rows": 5},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trend_report_matches_golden(name):
    trend = F["baseline_trend"](history(), **CASES[name])
    text = render(trend)
    check_golden(name, text)
    assert text.count("```mermaid\nxychart-beta") == sum(1 for f in trend["figures"] if f["chart"]["data"])


def test_trend_report_has_a_point_per_baseline():
    trend = F["baseline_trend"](history())
    text = render(trend)
    assert f"**Baselines:** {len(HISTORY)}," in text
    cold = re.search(r'title "API response \(cold\), ms"\n.*\n.*\n    line \[(.*)\]', text).group(1)
    assert len(cold.split(", ")) == len(HISTORY)
    assert len(re.findall(r"^\| \d+ \| 2026-", text, re.MULTILINE)) == len(HISTORY)
