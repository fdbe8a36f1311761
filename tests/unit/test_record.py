"""The baseline record and its verdicts (module_utils/baseline_record.py), called directly, without Ansible's
filters; the filters that adapt it are tested in test_filters.py, test_gate.py and test_report.py."""

import json

import pytest
import yaml
from ansible.module_utils import baseline_record as records
from ansible.module_utils.baseline_catalogue import METRICS
from conftest import FIXTURES, PROJECT

DEFAULTS = yaml.safe_load((PROJECT / "roles" / "baseline" / "defaults" / "main.yml").read_text())
SUMMARY = {metric: None for metric in METRICS} | {"api_response_time_cold_ms": 274.0, "error_count": 3}


def recorded(module):
    return json.loads((FIXTURES / "results" / f"{module}.json").read_text())


def results(**replaced):
    found = {"units": recorded("systemd_unit_facts"), "journal": recorded("journal_errors"),
             "redis": recorded("redis_facts"), "postgres": recorded("postgres_facts"),
             "http_local": {"skipped": True}, "http_public": recorded("http_probe"), "load": recorded("http_load")}
    return found | replaced


def context(**replaced):
    return {"host": "demo", "environment": "demo", "service": "tsh_erp", "color": "green",
            "measured_at": "2026-11-29T18:16:00Z", "public_url": "https://erp.demo.test", "unreachable_reason": "",
            "thresholds": DEFAULTS["baseline_thresholds"], "targets": DEFAULTS["baseline_targets"],
            "known_issues": [], "history": [], "noise_pct": 10} | replaced


def test_a_record_of_recorded_results_has_every_section_of_the_schema():
    record = records.baseline_record(results(), context())
    schema = json.loads((PROJECT / "schemas" / "baseline.schema.json").read_text())
    assert set(schema["required"]) <= set(record)
    assert list(record["summary"]) == list(METRICS)
    assert record["schema_version"] == records.SCHEMA_VERSION
    assert record["verdict"]["status"] in records.SEVERITY_ORDER
    assert record["verdict"]["text"] == records.VERDICT_TEXT[record["verdict"]["status"]]
    assert [row["metric"] for row in record["trend"]] == list(METRICS)


def test_an_unreachable_host_fails_every_part_measured_on_it_for_one_reason():
    record = records.baseline_record({"http_public": {"skipped": True}}, context(unreachable_reason="refused"))
    assert record["verdict"] == {"status": "failed", "text": records.VERDICT_TEXT["failed"],
                                 "reasons": records.gate_reasons(record)}
    assert record["problems"] == {"host": "host unreachable: refused"}
    assert {name: part["status"] for name, part in record["status"].items()} == {
        "Application": "failed", "Redis": "failed", "Database": "failed", "Public URL": "failed"}
    assert records.gate_reasons(record)[0] == "Application: not measured: host unreachable: refused"


@pytest.mark.parametrize(("rule", "value", "status"), [
    ({"max": 300}, 274.0, "ok"),
    ({"max": 200}, 274.0, "warning"),
    ({"max": 200, "severity": "critical"}, 274.0, "critical"),
    ({"min": 300}, 274.0, "warning"),
    ({"equals": 274.0}, 274.0, "ok"),
    ({"max": 200}, None, "pending"),
])
def test_a_threshold_is_met_or_missed_at_its_severity(rule, value, status):
    (verdict,) = records.judge_thresholds(dict(SUMMARY, api_response_time_cold_ms=value),
                                          {"api_response_time_cold_ms": rule})
    assert verdict["status"] == status
    assert verdict["expected"].endswith(" ms")


@pytest.mark.parametrize(("rule", "status", "reason"), [
    ({"equals": 0}, "warning", "outside target (= 0)"),  # already above: more can only be worse
    ({"max": 5}, "pending", "not known: only a lower bound (cut)"),
    ({"min": 2}, "ok", "within target"),  # already reached
    ({"min": 5}, "pending", "not known: only a lower bound (cut)"),
])
def test_a_lower_bound_is_judged_only_where_more_cannot_change_the_verdict(rule, status, reason):
    (verdict,) = records.judge_thresholds(SUMMARY, {"error_count": rule}, lower_bounds={"error_count": "cut"})
    assert (verdict["status"], verdict["reason"], verdict["actual"]) == (status, reason, "at least 3 (cut)")


@pytest.mark.parametrize(("thresholds", "message"), [
    ([], "expected the summary and the thresholds as dicts"),
    ({"latency": {"max": 1}}, "unknown metric 'latency'"),
    ({"error_count": {"max": 1, "severity": "fatal"}}, "severity of error_count must be warning or critical"),
    ({"error_count": {"below": 1}}, "a threshold needs one of max, min or equals"),
    ({"error_count": {"max": "1"}}, "the max of error_count must be a number, got '1'"),
])
def test_bad_thresholds_raise_a_record_error(thresholds, message):
    with pytest.raises(records.RecordError, match=f"^{message}"):
        records.judge_thresholds(SUMMARY, thresholds)


def test_a_day_target_missed_before_its_day_is_pending_until_due():
    targets = [{"day": 7, "thresholds": {"api_response_time_cold_ms": {"max": 200}}}]
    (early,) = records._day_targets(SUMMARY, targets, "2026-11-29T10:00:00Z", "2026-11-30T10:00:00Z", {})
    (late,) = records._day_targets(SUMMARY, targets, "2026-11-01T10:00:00Z", "2026-11-30T10:00:00Z", {})
    assert (early["due"], early["verdicts"][0]["status"], early["verdicts"][0]["reason"]) == (
        "2026-12-06", "pending", "not met yet; due 2026-12-06")
    assert (late["due"], late["verdicts"][0]["status"]) == ("2026-11-08", "warning")


def test_a_regression_beyond_the_noise_shows_in_the_comparison_and_the_recommendations():
    earlier = {"summary": dict(SUMMARY, api_response_time_cold_ms=1.0), "measured_at": "2026-11-28T18:16:00Z"}
    record = records.baseline_record(results(), context(history=[earlier]))
    row = next(r for r in record["comparison"]["rows"] if r["metric"] == "api_response_time_cold_ms")
    assert row["regression"] is True
    assert f"API response (cold) regressed by {row['delta_pct']} % since the previous baseline" in (
        record["recommendations"])


def answered():
    """http_probe's recorded result without its endpoint on a closed port: every endpoint answered."""
    probe = recorded("http_probe")
    return dict(probe, http_probe=[e for e in probe["http_probe"] if e["ok"]])


def test_the_verdict_says_why_at_its_own_severity():
    units = recorded("systemd_unit_facts")
    units["systemd_units"]["tsh_erp-green"]["restarts"] = 0
    good = records.baseline_record(results(http_public=answered(), units=units), context(thresholds={}))
    assert good["verdict"] == {"status": "ok", "text": "Good", "reasons": []}
    warned = records.baseline_record(results(http_public=answered()),
                                     context(thresholds={"app_memory_bytes": {"max": 1000}}))
    assert warned["verdict"]["status"] == "warning"
    assert warned["verdict"]["reasons"] == [
        "Application: active (running), restarted 2 time(s)",
        f"missed 1 warning threshold(s): {warned['verdicts'][0]['summary']}"]
    down = records.baseline_record(results(http_public=answered(), redis={"changed": False, "redis": {
        "reachable": False, "error": "unable to connect to Redis at 127.0.0.1:6379: Connection refused"}}),
        context(thresholds={"app_memory_bytes": {"max": 1000}}))
    # Critical: the warning below it is not a reason for it.
    assert down["verdict"]["reasons"] == ["Redis: unable to connect to Redis at 127.0.0.1:6379: Connection refused"]


def test_a_cut_journal_makes_the_error_count_a_lower_bound():
    assert records.lower_bounds(records.journal_reading({"exact": False, "lines_read": 10, "max_seconds": 1})) == {
        "error_count": "10 lines, 100 % of the time since the start, were read in the 1 s limit"}
    assert records.lower_bounds(records.journal_reading({"exact": True})) == {}
    assert records.lower_bounds(None) == {}
    with pytest.raises(records.RecordError, match=r"^expected the record's journal reading as a dict"):
        records.lower_bounds("cut")


def test_the_fleet_has_a_row_per_host_measured_or_not():
    fleet = records.baseline_fleet(["b", "a"], [{"host": "a", "verdict": {"status": "ok"}}], [], "reports")
    assert fleet == {"rows": [{"host": "a", "environment": None, "service": None, "measured_at": None,
                               "this_run": True, "status": "ok", "text": "Good", "reasons": None,
                               "unit": None, "summary": {}, "lower_bounds": {}, "errors_text": "n/a"},
                              {"host": "b", "missing": "no baseline in reports", "this_run": False}],
                     "hosts": 2, "with_baseline": 1, "this_run": 1}
    with pytest.raises(records.RecordError, match=r"^expected baseline records with a host"):
        records.baseline_fleet(["a"], [{}], [])
