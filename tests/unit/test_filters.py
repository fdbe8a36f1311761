"""The baseline filters, called as templates call them: through FilterModule().filters()."""

import pytest
from ansible.errors import AnsibleFilterError
from baseline import FilterModule

F = FilterModule().filters()


@pytest.mark.parametrize(("value", "text"), [
    (None, "n/a"), (0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (871_700, "851.3 KiB"),
    (227_540_992, "217.0 MiB"), (3 * 1024**4, "3.0 TiB")])
def test_human_bytes(value, text):
    assert F["human_bytes"](value) == text


@pytest.mark.parametrize(("value", "text"), [
    (None, "n/a"), (42, "42 s"), (420, "7 min"), (425, "7 min 5 s"), (3600, "1 h"),
    (93784, "1 d 2 h"), (604800, "7 d")])
def test_human_duration(value, text):
    assert F["human_duration"](value) == text


@pytest.mark.parametrize("name", ["human_bytes", "human_duration", "pct", "ms"])
def test_number_filters_reject_text_and_bools(name):
    with pytest.raises(AnsibleFilterError, match=f"^{name}: expected a number, got str '12'"):
        F[name]("12")
    with pytest.raises(AnsibleFilterError, match=f"^{name}: expected a number, got bool"):
        F[name](True)


def test_status_mark_and_its_error():
    assert [F["status_mark"](s) for s in ("ok", "warning", "pending", "critical")] == ["✅", "⚠️", "⏳", "❌"]
    with pytest.raises(AnsibleFilterError, match="status_mark: unknown status 'good'"):
        F["status_mark"]("good")


@pytest.mark.parametrize(("now", "before", "delta"), [
    (110, 100, 10.0), (90, 100, -10.0), (5, 0, None), (None, 1, None), (1, None, None)])
def test_delta_pct(now, before, delta):
    assert F["delta_pct"](now, before) == delta


SUMMARY = {"api_response_time_cold_ms": 274.0, "api_response_time_warm_ms": 4.2, "cache_hit_rate_pct": None,
           "cache_memory_bytes": 871_700, "app_memory_bytes": 227_540_992, "app_cpu_avg_pct": 2.6,
           "uptime_s": 420, "error_count": 3}


def test_judge_marks_met_missed_and_pending():
    verdicts = {v["metric"]: v for v in F["judge"](SUMMARY, {
        "api_response_time_cold_ms": {"max": 105, "severity": "warning"},
        "cache_hit_rate_pct": {"min": 80},
        "app_memory_bytes": {"max": 314572800, "severity": "critical"},
        "error_count": {"equals": 0, "severity": "critical"},
    }, {"cache_hit_rate_pct": "not yet populated"})}
    assert verdicts["api_response_time_cold_ms"]["status"] == "warning"
    assert verdicts["api_response_time_cold_ms"]["actual"] == "274.0 ms"
    assert verdicts["cache_hit_rate_pct"] == dict(verdicts["cache_hit_rate_pct"], status="pending",
                                                  reason="not yet populated")
    assert verdicts["app_memory_bytes"]["status"] == "ok"
    assert verdicts["app_memory_bytes"]["expected"] == "≤ 300.0 MiB"
    assert verdicts["error_count"]["status"] == "critical"
    assert [v["metric"] for v in F["missed"](list(verdicts.values()), "critical")] == ["error_count"]
    assert len(F["missed"](list(verdicts.values()), "warning")) == 2


@pytest.mark.parametrize(("thresholds", "message"), [
    ({"latency": {"max": 1}}, "judge: unknown metric 'latency'"),
    ({"uptime_s": {"max": 1, "severity": "fatal"}}, "judge: severity of uptime_s must be warning or critical"),
    ({"uptime_s": {"below": 1}}, "judge: a threshold needs one of max, min or equals"),
])
def test_judge_errors_name_the_filter(thresholds, message):
    with pytest.raises(AnsibleFilterError, match=message):
        F["judge"](SUMMARY, thresholds)


def test_compare_baselines_flags_regressions_beyond_noise():
    previous = dict(SUMMARY, api_response_time_cold_ms=200.0, app_memory_bytes=227_540_992, uptime_s=60)
    rows = {r["metric"]: r for r in F["compare_baselines"](SUMMARY, previous, 10)}
    assert rows["api_response_time_cold_ms"]["delta_pct"] == 37.0
    assert rows["api_response_time_cold_ms"]["regression"] is True
    assert rows["app_memory_bytes"]["regression"] is False
    assert rows["uptime_s"]["regression"] is False
    assert F["compare_baselines"](SUMMARY, None) == []


def test_compare_baselines_higher_is_better_for_hit_rate():
    rows = {r["metric"]: r for r in F["compare_baselines"](dict(SUMMARY, cache_hit_rate_pct=50.0),
                                                          dict(SUMMARY, cache_hit_rate_pct=80.0))}
    assert rows["cache_hit_rate_pct"]["regression"] is True


def test_known_issues_groups_by_catalogue_entry():
    catalogue = [{"id": "mapper", "title": "Mapper", "pattern": r"failed to locate a name \('Tenant'\)"}]
    groups = [{"sample": "Traceback ...\nexpression 'Tenant' failed to locate a name ('Tenant').", "count": 2},
              {"sample": "ERROR boom", "count": 1},
              {"sample": "... failed to locate a name ('Tenant')", "count": 1}]
    result = F["known_issues"](groups, catalogue)
    assert [(k["id"], k["count"], len(k["groups"])) for k in result["known"]] == [("mapper", 3, 2)]
    assert result["new"] == [groups[1]]
    with pytest.raises(AnsibleFilterError, match="known_issues: expected"):
        F["known_issues"]({}, catalogue)


@pytest.mark.parametrize(("text", "color"), [
    ("upstream tsh_erp {\n    server 127.0.0.1:8002; # color=green\n}", "green"),
    ("upstream tsh_erp {\n  server 127.0.0.1:8001;\n}", "blue"),
    ("upstream tsh_erp {\n  server 127.0.0.1:9000;\n}", ""),
    ("upstream x {\n server 127.0.0.1:8001;\n server 127.0.0.1:8002;\n}", ""),
    ("", ""),
])
def test_upstream_color(text, color):
    assert F["upstream_color"](text, {"blue": 8001, "green": 8002}) == color


def test_upstream_live_gives_the_reason_with_the_colour():
    assert F["upstream_live"]("upstream app { server 127.0.0.1:8002; }", {"blue": 8001, "green": 8002}) == {
        "color": "green", "reason": ""}
    assert F["upstream_live"]("upstream tsh_erp { server 127.0.0.1:8001", {"blue": 8001, "green": 8002}) == {
        "color": "", "reason": 'the file is not valid nginx syntax: unexpected end of file, expecting ";" or "}"'}
    with pytest.raises(AnsibleFilterError, match="upstream_live: expected the colour ports as a dict"):
        F["upstream_live"]("", [8001])


def test_minutes_since_and_add_days():
    assert F["minutes_since"]("2025-11-05T15:41:00+00:00", "2025-11-05T15:48:30Z") == 7
    assert F["minutes_since"](None, "2025-11-05T15:48:30Z") is None
    assert F["add_days"]("2025-11-05T15:41:00+00:00", 7) == "2025-11-12"
