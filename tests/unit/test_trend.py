"""The trend: reading a host's baselines, noise bands, regressions, and the report the role renders.

The histories are eight baselines baseline.yml wrote on a demo target (tests/fixtures/history)
and twenty-two it wrote on a loaded machine (tests/fixtures/history_loaded); the trend reports
rendered from them are pinned by golden files in tests/golden. After an intended
change, regenerate them with UPDATE_GOLDEN=1 pytest tests/unit/test_trend.py and read the diff.
"""

import json
import os
import re

import jsonschema
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils.baseline_catalogue import METRICS
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from conftest import FIXTURES, PROJECT
from trend import FilterModule

F = FilterModule().filters()
HISTORY = sorted((FIXTURES / "history").glob("*Z.yml"))
LOADED = sorted((FIXTURES / "history_loaded").glob("*Z.yml"))
GOLDEN = PROJECT / "tests" / "golden"
TEMPLATE = PROJECT / "roles" / "trend" / "templates" / "trend.md.j2"
SCHEMA = json.loads((PROJECT / "schemas" / "baseline.schema.json").read_text())


def texts():
    return [p.read_text() for p in HISTORY]


def history(paths=HISTORY):
    return F["dbl_parse_baselines"]([p.read_text() for p in paths], [str(p) for p in paths])


def synthetic(values, metric="api_response_time_cold_ms", start_hour=0):
    """Baselines whose summary has these values for one figure, and 1.0 for the others."""
    return [{"host": "h", "service": "s", "environment": "e", "color": "blue", "verdict": "ok",
             "measured_at": f"2026-01-{1 + (start_hour + n) // 24:02d}T{(start_hour + n) % 24:02d}:00:00Z",
             "summary": {m: (v if m == metric else 1.0) for m in METRICS}} for n, v in enumerate(values)]


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
                        "verdict": whole["verdict"]["status"], "reasons": whole["verdict"].get("reasons"),
                        "summary": whole["summary"], "journal": {"bound": (whole.get("journal") or {}).get("bound")}}


def test_history_reads_a_file_of_another_layout_whole():
    whole = yaml.safe_load(HISTORY[0].read_text())
    as_json = json.dumps(whole)  # JSON is YAML too, but has no top-level keys at line starts
    assert F["dbl_parse_baselines"]([as_json]) == F["dbl_parse_baselines"]([HISTORY[0].read_text()])


@pytest.mark.parametrize(("text", "message"), [
    ("summary: [unclosed\n", "dbl_parse_baselines: f.yml is not valid YAML"),
    ("host: demo\n", "dbl_parse_baselines: f.yml is not a baseline record (no summary)"),
    ("- 1\n- 2\n", "dbl_parse_baselines: f.yml is not a baseline record (no summary)"),
    ("measured_at: '2026-11-29 18:00'\nsummary: {}\n",
     "dbl_parse_baselines: f.yml has no UTC measured_at (YYYY-MM-DDTHH:MM:SSZ): '2026-11-29 18:00'"),
    ("measured_at: '2026-11-29T18:00:00Z'\nsummary: {uptime_s: 7 min}\n",
     "dbl_parse_baselines: f.yml: summary.uptime_s is not a number: '7 min'"),
])
def test_history_errors_name_the_file(text, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_parse_baselines"]([text], ["f.yml"])


@pytest.mark.parametrize(("args", "message"), [
    (("text",), "dbl_parse_baselines: expected the baseline files' texts as a list of strings"),
    (([1],), "dbl_parse_baselines: expected the baseline files' texts as a list of strings"),
    ((["a", "b"], ["a.yml"]), "dbl_parse_baselines: 2 texts but 1 names"),
])
def test_history_input_errors(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_parse_baselines"](*args)


def test_noise_band_is_median_plus_minus_k_scaled_mad_with_a_floor():
    band = F["dbl_noise_band"]([10, 11, 9, 10, 12], k=3, floor_pct=10)
    assert (band["median"], band["mad"], band["points"]) == (10, 1, 5)
    assert band["high"] == pytest.approx(10 + 3 * 1.4826)
    assert band["low"] == pytest.approx(10 - 3 * 1.4826)
    flat = F["dbl_noise_band"]([4, 4, 4], k=3, floor_pct=10)
    assert (flat["low"], flat["high"]) == pytest.approx((3.6, 4.4))
    assert F["dbl_noise_band"]([1, 5, 9], k=3, floor_pct=0)["low"] == 0  # never below 0


@pytest.mark.parametrize("earlier", [[], "1,2", [1, None], [True]])
def test_noise_band_errors(earlier):
    with pytest.raises(AnsibleFilterError, match=r"^dbl_noise_band: expected"):
        F["dbl_noise_band"](earlier)


def test_a_step_up_of_a_lower_is_better_figure_is_a_regression():
    trend = F["dbl_baseline_trend"](synthetic([10, 11, 9, 10, 10, 11, 30, 10]), min_points=5)
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
    trend = F["dbl_baseline_trend"](synthetic([80, 81, 79, 80, 80, 50, 99.9], "cache_hit_rate_pct"), min_points=5)
    hit = next(f for f in trend["figures"] if f["metric"] == "cache_hit_rate_pct")
    flags = [p["flags"]["cache_hit_rate_pct"] for p in trend["table"]]
    assert flags[5:] == ["regression", "improvement"]
    assert (hit["band"]["low"], hit["band"]["high"]) == (70, 90)  # 80 +- (10 % + 2 points): the floors, MAD is small
    assert F["dbl_baseline_trend"](synthetic([99.5] * 6, "cache_hit_rate_pct"))["figures"][2]["band"]["high"] == 100


def test_uptime_is_not_judged_and_too_few_points_are_learning():
    trend = F["dbl_baseline_trend"](synthetic([1, 100, 10_000], "uptime_s"))
    figures = {f["metric"]: f for f in trend["figures"]}
    assert figures["uptime_s"]["flag"] == "not judged" and figures["uptime_s"]["band"] is None
    assert figures["api_response_time_cold_ms"]["flag"] == "learning"
    assert trend["regression_count"] == 0


def test_nulls_are_left_out_of_bands_and_charts():
    values = [10, None, 10, 10, None, 10, 10, 10, 40]
    trend = F["dbl_baseline_trend"](synthetic(values), min_points=5)
    cold = trend["figures"][0]
    assert cold["measured"] == 7 and cold["chart"]["data"] == [10, 10, 10, 10, 10, 10, 40]
    assert len(cold["chart"]["labels"]) == 7
    assert cold["previous"] == 10 and cold["flag"] == "regression"
    assert trend["table"][1]["flags"]["api_response_time_cold_ms"] == ""


def test_the_band_looks_only_at_the_window():
    # A new level becomes normal once it fills the window: the work per point stays bounded.
    trend = F["dbl_baseline_trend"](synthetic([10] * 5 + [20] * 10), window=5, min_points=5)
    flags = [p["flags"]["api_response_time_cold_ms"] for p in trend["table"]]
    assert flags[5:8] == ["regression"] * 3 and flags[-1] == "within"


def test_rows_limit_the_lists_not_the_figures_or_charts():
    trend = F["dbl_baseline_trend"](synthetic([10] * 5 + [30] * 3 + [10] * 12), rows=4, min_points=5)
    assert trend["count"] == 20
    assert [p["number"] for p in trend["table"]] == [17, 18, 19, 20]
    assert trend["regression_count"] == 3 and len(trend["regressions"]) == 3
    assert len(F["dbl_baseline_trend"](synthetic([10] * 5 + [30] * 3), rows=2)["regressions"]) == 2
    cold = trend["figures"][0]
    assert len(cold["chart"]["data"]) == 20 and cold["chart"]["labels"] is None  # numbered beyond 12 points
    assert len(F["dbl_baseline_trend"](synthetic([10] * 20), rows=0)["table"]) == 20


def test_the_points_are_put_in_time_order():
    points = synthetic([1, 2, 3])
    trend = F["dbl_baseline_trend"](list(reversed(points)))
    assert [p["measured_at"] for p in trend["table"]] == [p["measured_at"] for p in points]


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (([],), {}, "dbl_baseline_trend: expected a non-empty list of baselines (dbl_parse_baselines)"),
    (([{"measured_at": "x"}],), {}, "dbl_baseline_trend: every baseline needs a summary"),
    ((synthetic([1]),), {"k": -1}, "dbl_baseline_trend: k must be a number of at least 0, got -1"),
    ((synthetic([1]),), {"window": 0}, "dbl_baseline_trend: window must be a number of at least 1, got 0"),
    ((synthetic([1]),), {"min_points": "5"}, "dbl_baseline_trend: min_points must be a number of at least 1, got '5'"),
    ((synthetic([1]),), {"rows": True}, "dbl_baseline_trend: rows must be a number of at least 0, got True"),
])
def test_baseline_trend_errors_name_the_filter(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_baseline_trend"](*args, **kwargs)


def test_a_value_on_the_bands_edge_is_within():
    # 10 +- (10 % + 1 ms): [8, 12]. Both edges are within; just past them is judged.
    for value, flag in ((12, "within"), (12.001, "regression"), (8, "within"), (7.999, "improvement")):
        trend = F["dbl_baseline_trend"](synthetic([10] * 5 + [value]))
        assert trend["table"][-1]["flags"]["api_response_time_cold_ms"] == flag, value


def test_the_band_is_never_narrower_than_the_figures_noise_floors():
    # The case: 6.0 ms against a median of 4.8 ms from quiet runs (MAD 0.2 ms) is noise.
    trend = F["dbl_baseline_trend"](synthetic([4.8, 4.6, 5.0, 4.8, 4.7, 6.0]))
    cold = trend["figures"][0]
    assert cold["band"]["high"] == pytest.approx(4.8 + 0.48 + 1.0)  # 10 % of the median + 1 ms
    assert (cold["flag"], cold["floor"], trend["regression_count"]) == ("within", 1.0, 0)
    assert F["dbl_noise_band"]([4.8] * 5, k=3, floor_pct=10, floor=1.0)["low"] == pytest.approx(3.32)


@pytest.mark.parametrize("rule", [{}, {"k": 1, "floor_pct": 2, "min_points": 3}])
def test_a_flat_recorded_history_shows_no_regression(rule):
    # Eight baselines of an unchanged target: the old rule (no absolute floor) flagged 6 with the tight band.
    assert F["dbl_baseline_trend"](history(), **rule)["regressions"] == []


def test_on_a_loaded_machine_only_the_load_spikes_of_the_latencies_are_flagged():
    trend = F["dbl_baseline_trend"](history(LOADED))
    assert trend["count"] == 22
    assert {r["metric"] for r in trend["regressions"]} == {"api_response_time_cold_ms", "api_response_time_warm_ms"}
    # Swings of up to 1.6 x the median are not flagged; the readings flagged are 1.6 to 4.2 x it.
    assert min(r["value"] / r["median"] for r in trend["regressions"]) > 1.6
    cold = [p["summary"]["api_response_time_cold_ms"] for p in history(LOADED)]
    assert max(cold) / min(cold) > 10  # the history is noisy indeed


# A 30 % step (worse) planted in the last three baselines of each recorded history.
STEPS = {"cache_hit_rate_pct": 0.7, "cache_memory_bytes": 1.3, "app_memory_bytes": 1.3}


def planted(points, metric, factor, last=3):
    stepped = [dict(p, summary=dict(p["summary"])) for p in points]
    for point in stepped[-last:]:
        if point["summary"][metric] is not None:
            point["summary"][metric] = point["summary"][metric] * factor
    return stepped


@pytest.mark.parametrize("paths", [HISTORY, LOADED], ids=["quiet", "loaded"])
@pytest.mark.parametrize(("metric", "factor"), sorted(STEPS.items()))
def test_a_planted_30_pct_step_is_caught(paths, metric, factor):
    points = history(paths)
    trend = F["dbl_baseline_trend"](planted(points, metric, factor))
    caught = {r["measured_at"] for r in trend["regressions"] if r["metric"] == metric}
    stepped = {p["measured_at"] for p in points[-3:] if p["summary"][metric] is not None}
    assert caught == stepped


def test_a_planted_30_pct_step_of_the_warm_latency_is_caught_above_its_quiet_noise():
    points = history()
    trend = F["dbl_baseline_trend"](planted(points, "api_response_time_warm_ms", 1.3))
    caught = [r for r in trend["regressions"] if r["metric"] == "api_response_time_warm_ms"]
    assert [r["measured_at"] for r in caught] == ["2026-11-29T18:58:57Z"]  # 2.67 ms x 1.3 against 2.4 ms


CASES = {
    # The role's defaults: eight real points, the last three judged.
    "trend.md": {},
    # A tight band (1 x MAD, 2 % floor) over the same history: the absolute floors keep it quiet.
    "trend_tight_band.md": {"k": 1, "floor_pct": 2, "min_points": 3, "rows": 5},
    # The loaded machine's history, to show how regressions render.
    "trend_loaded.md": {"rows": 5},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trend_report_matches_golden(name):
    trend = F["dbl_baseline_trend"](history(LOADED if "loaded" in name else HISTORY), **CASES[name])
    text = render(trend)
    check_golden(name, text)
    assert text.count("```mermaid\nxychart-beta") == sum(1 for f in trend["figures"] if f["chart"]["data"])


def test_trend_report_has_a_point_per_baseline():
    trend = F["dbl_baseline_trend"](history())
    text = render(trend)
    assert f"**Baselines:** {len(HISTORY)}," in text
    cold = re.search(r'title "API response \(cold\), ms"\n.*\n.*\n    line \[(.*)\]', text).group(1)
    assert len(cold.split(", ")) == len(HISTORY)
    assert len(re.findall(r"^\| \d+ \| 2026-", text, re.MULTILINE)) == len(HISTORY)
