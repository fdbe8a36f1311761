"""The gate (gate_reasons): parts at the severity, parts not measured, thresholds missed."""

import re

import pytest
from ansible.errors import AnsibleFilterError
from baseline import FilterModule

FILTERS = FilterModule().filters()
gate_reasons = FILTERS["dbl_gate_reasons"]


def record(status=None, problems=None, verdicts=None):
    found = {"Application": {"status": "ok", "text": "active (running)"},
             "Redis": {"status": "ok", "text": "running and responding"}}
    found.update(status or {})
    return {"status": found, "problems": problems or {}, "verdicts": verdicts or []}


MEMORY = {"metric": "app_memory_bytes", "status": "critical",
          "summary": "Application memory: 58.3 MiB (expected ≤ 1000 B)"}
HIT_RATE = {"metric": "cache_hit_rate_pct", "status": "warning",
            "summary": "Cache hit rate: 25.0 % (expected ≥ 80.0 %)"}


@pytest.mark.parametrize(("found", "severity", "reasons"), [
    (record(), "critical", []),
    (record(verdicts=[{"status": "pending", "summary": "x"}]), "warning", []),
    (record({"Redis": {"status": "critical", "text": "unable to connect to Redis at 127.0.0.1:6379: refused"}}),
     "critical", ["Redis: unable to connect to Redis at 127.0.0.1:6379: refused"]),
    (record({"Application": {"status": "warning", "text": "active (running), restarted 2 time(s)"}}), "critical", []),
    (record({"Application": {"status": "warning", "text": "active (running), restarted 2 time(s)"}}), "warning",
     ["Application: active (running), restarted 2 time(s)"]),
    (record({"Application": {"status": "failed", "text": "not measured: host unreachable: refused"}},
            problems={"host": "host unreachable: refused"}),
     "critical", ["Application: not measured: host unreachable: refused"]),
    (record(problems={"journal": "reading the journal of tsh_erp-green: denied"}), "critical",
     ["Journal: not measured: reading the journal of tsh_erp-green: denied"]),
    (record(verdicts=[MEMORY, HIT_RATE]), "critical",
     ["missed 1 critical threshold(s): Application memory: 58.3 MiB (expected ≤ 1000 B)"]),
    (record(verdicts=[MEMORY, HIT_RATE]), "warning",
     ["missed 2 warning threshold(s): Application memory: 58.3 MiB (expected ≤ 1000 B); "
      "Cache hit rate: 25.0 % (expected ≥ 80.0 %)"]),
])
def test_gate_reasons(found, severity, reasons):
    assert gate_reasons(found, severity) == reasons


@pytest.mark.parametrize(("args", "message"), [
    (({"status": {}}, "critical"), "dbl_gate_reasons: expected a baseline record (baseline_record)"),
    ((record(), "none"), "dbl_gate_reasons: severity must be warning or critical, not 'none'"),
])
def test_gate_reasons_refuses_bad_input(args, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        gate_reasons(*args)


def unit(active_state, sub_state, restarts):
    return {"units": {"changed": False, "systemd_units": {"tsh_erp-green": {
        "exists": True, "active_state": active_state, "sub_state": sub_state, "restarts": restarts}}}}


@pytest.mark.parametrize(("state", "expected"), [
    (("active", "running", 0), {"status": "ok", "text": "active (running)"}),
    (("active", "running", 2), {"status": "warning", "text": "active (running), restarted 2 time(s)"}),
    (("activating", "auto-restart", 5),
     {"status": "critical", "text": "activating (auto-restart), restarted 5 time(s)"}),
    (("failed", "failed", 0), {"status": "critical", "text": "failed (failed)"}),
])
def test_application_status_of_a_crash_loop(state, expected):
    built = FILTERS["dbl_baseline_record"](unit(*state), {
        "host": "h", "environment": "e", "service": "tsh_erp", "color": "green",
        "measured_at": "2026-11-29T18:16:00Z", "unreachable_reason": ""})
    assert built["status"]["Application"] == expected


def probed(*errors):
    return {"changed": False, "http_probe": [
        {"name": f"endpoint {n}", "ok": error is None, "status": None if error else 200,
         "error": {"kind": "refused", "msg": error} if error else None} for n, error in enumerate(errors, start=1)]}


@pytest.mark.parametrize(("errors", "text"), [
    ((None, None), "2 endpoint(s) answered as expected"),
    (("unable to connect to 127.0.0.1:443: Connection refused",) * 3,
     "all 3 endpoints: unable to connect to 127.0.0.1:443: Connection refused"),
    (("refused", None, "refused", "timed out"), "endpoint 1, endpoint 3: refused; endpoint 4: timed out"),
    (("refused",), "endpoint 1: refused"),
])
def test_public_url_status_names_each_reason_once(errors, text):
    built = FILTERS["dbl_baseline_record"]({"http_public": probed(*errors)}, {
        "host": "h", "environment": "e", "service": "tsh_erp", "color": "",
        "measured_at": "2026-11-29T18:16:00Z", "unreachable_reason": ""})
    assert built["status"]["Public URL"]["text"] == text


def recorded_record(thresholds, targets):
    """A baseline record from the module results recorded on the demo target (tests/fixtures/results)."""
    import json

    from conftest import FIXTURES

    def recorded(module):
        return json.loads((FIXTURES / "results" / f"{module}.json").read_text())

    results = {"units": recorded("systemd_unit_facts"), "journal": recorded("journal_errors"),
               "redis": recorded("redis_facts"), "postgres": recorded("postgres_facts"),
               "http_public": recorded("http_probe")}
    return FILTERS["dbl_baseline_record"](results, {
        "host": "demo", "environment": "demo", "service": "tsh_erp", "color": "green",
        "measured_at": "2026-12-09T18:16:00Z",  # Day 7 is due: a target missed is missed, not pending
        "thresholds": thresholds, "targets": targets})


def test_figures_equal_to_their_thresholds_and_targets_meet_them_and_pass_the_gate():
    summary = recorded_record({}, [])["summary"]
    exact = {"cache_memory_bytes": {"max": summary["cache_memory_bytes"], "severity": "critical"},
             "app_memory_bytes": {"min": summary["app_memory_bytes"], "severity": "critical"},
             "error_count": {"equals": summary["error_count"], "severity": "critical"}}
    record = recorded_record(exact, [{"day": 7, "thresholds": exact}])
    assert [v["status"] for v in record["verdicts"]] == ["ok"] * 3
    assert [v["status"] for v in record["targets"][0]["verdicts"]] == ["ok"] * 3
    # The recorded facts have faults of their own (green restarted); no threshold is among the reasons.
    assert not [r for r in gate_reasons(record, "warning") if r.startswith("missed")]
    # One byte less allowed, one byte more required: both missed, and the gate says so.
    off = {"cache_memory_bytes": {"max": summary["cache_memory_bytes"] - 1, "severity": "critical"},
           "app_memory_bytes": {"min": summary["app_memory_bytes"] + 1, "severity": "critical"}}
    record = recorded_record(off, [{"day": 7, "thresholds": off}])
    assert [v["status"] for v in record["verdicts"]] == ["critical"] * 2
    assert [v["status"] for v in record["targets"][0]["verdicts"]] == ["critical"] * 2
    assert gate_reasons(record, "critical")[-1].startswith("missed 2 critical threshold(s): ")
