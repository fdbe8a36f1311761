"""The baseline filters, called as templates call them: through FilterModule().filters()."""

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible.module_utils import baseline_live
from baseline import FilterModule

F = FilterModule().filters()
MIB = 1024 * 1024


@pytest.mark.parametrize(("value", "text"), [
    (None, "n/a"), (0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (871_700, "851.3 KiB"),
    (227_540_992, "217.0 MiB"), (3 * 1024**4, "3.0 TiB")])
def test_human_bytes(value, text):
    assert F["dbl_human_bytes"](value) == text


@pytest.mark.parametrize(("value", "text"), [
    (None, "n/a"), (42, "42 s"), (420, "7 min"), (425, "7 min 5 s"), (3600, "1 h"),
    (93784, "1 d 2 h"), (604800, "7 d")])
def test_human_duration(value, text):
    assert F["dbl_human_duration"](value) == text


@pytest.mark.parametrize("name", ["dbl_human_bytes", "dbl_human_duration", "dbl_human_pct", "dbl_human_ms"])
def test_number_filters_reject_text_and_bools(name):
    with pytest.raises(AnsibleFilterError, match=f"^{name}: expected a number, got str '12'"):
        F[name]("12")
    with pytest.raises(AnsibleFilterError, match=f"^{name}: expected a number, got bool"):
        F[name](True)


def test_status_mark_and_its_error():
    assert [F["dbl_status_mark"](s) for s in ("ok", "warning", "pending", "critical")] == ["✅", "⚠️", "⏳", "❌"]
    with pytest.raises(AnsibleFilterError, match="dbl_status_mark: unknown status 'good'"):
        F["dbl_status_mark"]("good")


@pytest.mark.parametrize(("now", "before", "delta"), [
    (110, 100, 10.0), (90, 100, -10.0), (5, 0, None), (None, 1, None), (1, None, None)])
def test_delta_pct(now, before, delta):
    assert F["dbl_delta_pct"](now, before) == delta


SUMMARY = {"api_response_time_cold_ms": 274.0, "api_response_time_warm_ms": 4.2, "cache_hit_rate_pct": None,
           "cache_memory_bytes": 871_700, "app_memory_bytes": 227_540_992, "app_cpu_avg_pct": 2.6,
           "uptime_s": 420, "error_count": 3}


def test_judge_marks_met_missed_and_pending():
    verdicts = {v["metric"]: v for v in F["dbl_judge_thresholds"](SUMMARY, {
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
    assert [v["metric"] for v in F["dbl_missed_thresholds"](list(verdicts.values()), "critical")] == ["error_count"]
    assert len(F["dbl_missed_thresholds"](list(verdicts.values()), "warning")) == 2


@pytest.mark.parametrize(("thresholds", "message"), [
    ({"latency": {"max": 1}}, "dbl_judge_thresholds: unknown metric 'latency'"),
    ({"uptime_s": {"max": 1, "severity": "fatal"}},
     "dbl_judge_thresholds: severity of uptime_s must be warning or critical"),
    ({"uptime_s": {"below": 1}}, "dbl_judge_thresholds: a threshold needs one of max, min or equals"),
])
def test_judge_errors_name_the_filter(thresholds, message):
    with pytest.raises(AnsibleFilterError, match=message):
        F["dbl_judge_thresholds"](SUMMARY, thresholds)


def test_compare_baselines_flags_regressions_beyond_noise():
    previous = dict(SUMMARY, api_response_time_cold_ms=200.0, app_memory_bytes=227_540_992, uptime_s=60)
    rows = {r["metric"]: r for r in F["dbl_compare_baselines"](SUMMARY, [previous], 10)}
    assert rows["api_response_time_cold_ms"]["delta_pct"] == 37.0
    assert rows["api_response_time_cold_ms"]["tolerance"] == 21.0  # 10 % of 200 ms + its floor, 1 ms
    assert rows["api_response_time_cold_ms"]["regression"] is True
    assert rows["app_memory_bytes"]["regression"] is False
    assert rows["uptime_s"]["regression"] is False and rows["uptime_s"]["judged"] is False
    assert F["dbl_compare_baselines"](SUMMARY, []) == []


def test_compare_baselines_higher_is_better_for_hit_rate():
    rows = {r["metric"]: r for r in F["dbl_compare_baselines"](dict(SUMMARY, cache_hit_rate_pct=50.0),
                                                          [dict(SUMMARY, cache_hit_rate_pct=80.0)])}
    assert rows["cache_hit_rate_pct"]["regression"] is True


def test_a_swing_within_the_absolute_noise_floor_is_not_a_regression():
    # The issue's case: 6.0 ms against 4.8 ms (+25 %) is 1.2 ms, within 10 % of 4.8 ms + 1 ms.
    swing = F["dbl_compare_baselines"](dict(SUMMARY, api_response_time_cold_ms=6.0),
                                   [dict(SUMMARY, api_response_time_cold_ms=4.8)], 10)
    cold = swing[0]
    assert (cold["delta_pct"], cold["regression"]) == (25.0, False)
    assert cold["tolerance"] == pytest.approx(1.48)
    step = F["dbl_compare_baselines"](dict(SUMMARY, api_response_time_cold_ms=6.3),
                                  [dict(SUMMARY, api_response_time_cold_ms=4.8)], 10)
    assert step[0]["regression"] is True
    # A 20 MiB process may move by 10 % of it + 4 MiB = 6 MiB.
    small = dict(SUMMARY, app_memory_bytes=20 * MIB)
    rows = {r["metric"]: r for r in F["dbl_compare_baselines"](dict(small, app_memory_bytes=25 * MIB), [small])}
    assert rows["app_memory_bytes"]["regression"] is False  # 5 MiB
    rows = {r["metric"]: r for r in F["dbl_compare_baselines"](dict(small, app_memory_bytes=27 * MIB), [small])}
    assert rows["app_memory_bytes"]["regression"] is True


def test_compare_baselines_judges_a_figure_once_enough_earlier_baselines_measured_it():
    slower = dict(SUMMARY, api_response_time_cold_ms=400.0)
    earlier = [dict(SUMMARY, cache_memory_bytes=None)] + [SUMMARY] * 2
    compared = F["dbl_compare_baselines"](dict(slower, cache_memory_bytes=2 * MIB), earlier, 10, 3)
    rows = {r["metric"]: r for r in compared}
    assert rows["api_response_time_cold_ms"]["judged"] is True and rows["api_response_time_cold_ms"]["regression"]
    assert rows["cache_memory_bytes"]["note"] == "not judged yet: 2 of 3 earlier baselines"
    assert rows["cache_memory_bytes"]["judged"] is False and not rows["cache_memory_bytes"]["regression"]
    assert not any(r["regression"] for r in F["dbl_compare_baselines"](slower, earlier[1:], 10, 3))


def test_a_change_equal_to_its_tolerance_is_not_a_regression():
    # 10 % of 200 ms + 1 ms = 21 ms: 221 ms is on the edge (within), 221.001 ms beyond it.
    edge = F["dbl_compare_baselines"](dict(SUMMARY, api_response_time_cold_ms=221.0),
                                  [dict(SUMMARY, api_response_time_cold_ms=200.0)], 10)
    beyond = F["dbl_compare_baselines"](dict(SUMMARY, api_response_time_cold_ms=221.001),
                                    [dict(SUMMARY, api_response_time_cold_ms=200.0)], 10)
    assert (edge[0]["regression"], beyond[0]["regression"]) == (False, True)
    hit = {"cache_hit_rate_pct": 80.0}
    low_edge = {r["metric"]: r for r in F["dbl_compare_baselines"](dict(SUMMARY, cache_hit_rate_pct=70.0),
                                                              [dict(SUMMARY, **hit)], 10)}
    assert low_edge["cache_hit_rate_pct"]["tolerance"] == 10.0  # 8 points + its floor, 2 points
    assert low_edge["cache_hit_rate_pct"]["regression"] is False


def test_compare_baselines_refuses_a_single_summary():
    with pytest.raises(AnsibleFilterError, match="dbl_compare_baselines: expected the earlier baselines' summaries"):
        F["dbl_compare_baselines"](SUMMARY, SUMMARY)


@pytest.mark.parametrize(("kind", "bound"), [("max", 274.0), ("min", 274.0), ("equals", 274.0)])
def test_a_figure_equal_to_its_threshold_meets_it(kind, bound):
    verdict, = F["dbl_judge_thresholds"](SUMMARY, {"api_response_time_cold_ms": {kind: bound, "severity": "critical"}})
    assert (verdict["status"], verdict["reason"]) == ("ok", "within target")
    over = 273.999 if kind == "max" else 274.001
    missed, = F["dbl_judge_thresholds"](SUMMARY, {"api_response_time_cold_ms": {kind: over, "severity": "critical"}})
    assert missed["status"] == "critical"


CATALOGUE = yaml.safe_load((Path(__file__).resolve().parents[2] / "roles" / "baseline" / "files"
                            / "known_issues.yml").read_text())
# SQLAlchemy's mapper error as programs logged it: Debian's 1.4 (the demo app), 1.4 with the
# NameError's wording (fastapi/full-stack-fastapi-template#28), 2.0 (Mapper[...]) with either
# wording, wrapped in 2.0's "One or more mappers failed" (public logs), and 1.3's Mapper|...|...
# (timelesslounge/timelessis#256, its quotes made straight again).
MAPPER_ERRORS = [
    ("sqlalchemy.exc.InvalidRequestError: When initializing mapper mapped class Notification->notifications, "
     "expression 'Tenant' failed to locate a name ('Tenant'). If this is a class name, consider adding this "
     "relationship() to the <class 'app.check_mappers.<locals>.Notification'> class after both dependent classes "
     "have been defined.", "Tenant (in a relationship() of Notification)"),
    ("sqlalchemy.exc.InvalidRequestError: When initializing mapper mapped class User->user, expression 'Venue' "
     "failed to locate a name (\"name 'Venue' is not defined\"). If this is a class name, consider adding this "
     "relationship() to the <class 'app.db_models.user.User'> class after both dependent classes have been defined.",
     "Venue (in a relationship() of User)"),
    ("sqlalchemy.exc.InvalidRequestError: When initializing mapper Mapper[Training(trainings)], expression 'Account' "
     "failed to locate a name ('Account'). If this is a class name, consider adding this relationship() to the "
     "<class 'app.db.models.training.Training'> class after both dependent classes have been defined.",
     "Account (in a relationship() of Training)"),
    ("Failed to create admin user: When initializing mapper Mapper[User(users)], expression "
     "'ECGAnalysis.created_by' failed to locate a name (\"name 'ECGAnalysis' is not defined\").",
     "ECGAnalysis (in a relationship() of User)"),
    ("sqlalchemy.exc.InvalidRequestError: One or more mappers failed to initialize - can't proceed with "
     "initialization of other mappers. Triggering mapper: 'Mapper[Usuario(usuario)]'. Original exception was: "
     "When initializing mapper Mapper[Usuario(usuario)], expression 'TipoUser' failed to locate a name "
     "('TipoUser'). If this is a class name, consider adding this relationship() to the "
     "<class 'app.usuario.usuario_model.Usuario'> class after both dependent classes have been defined.",
     "TipoUser (in a relationship() of Usuario)"),
    ("sqlalchemy.exc.InvalidRequestError: When initializing mapper Mapper|Company|companies, expression 'Role.id' "
     "failed to locate a name (\"name 'Role' is not defined\"). If this is a class name, consider adding this "
     "relationship() to the <class 'timeless.companies.models.Company'> class after both dependent classes have "
     "been defined", "Role (in a relationship() of Company)"),
]


@pytest.mark.parametrize(("text", "names"), MAPPER_ERRORS)
def test_the_mapper_error_is_known_in_every_wording_and_names_the_model(text, names):
    sample = f"ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n{text}"
    result = F["dbl_match_known_issues"]([{"sample": sample, "count": 2}], CATALOGUE)
    issue, = result["known"]
    assert (issue["id"], issue["count"], issue["names"]) == ("sqlalchemy-mapper-unresolved-name", 2, [names])
    model, mapper = names.split(" (in a relationship() of ")
    assert f"Ensure the {model} model is imported before {mapper.rstrip(')')} (import every model in one module)" \
        in issue["solution"]


def test_mapper_errors_of_two_models_name_both_once():
    groups = [{"sample": text, "count": 1} for text, _ in [MAPPER_ERRORS[0], MAPPER_ERRORS[0], MAPPER_ERRORS[2]]]
    issue, = F["dbl_match_known_issues"](groups, CATALOGUE)["known"]
    assert issue["names"] == [MAPPER_ERRORS[0][1], MAPPER_ERRORS[2][1]] and issue["count"] == 3
    assert issue["solution"].count("Fix circular import issues") == 1


def test_other_failures_to_locate_are_not_the_mapper_error():
    for text in ("NameError: name 'Tenant' is not defined", "failed to locate a name ('Tenant')",
                 "When initializing mapper Mapper[Post(posts)], expression \"relationship('List[Tag]')\" seems to "
                 "be using a generic class as the argument to relationship()"):
        assert F["dbl_match_known_issues"]([{"sample": text, "count": 1}], CATALOGUE)["known"] == []


def test_the_catalogue_merges_an_inventory_s_entries_before_the_file_s():
    extra = [{"id": "quota", "title": "Disk quota", "pattern": r"quota exceeded for tenant (?P<tenant>\d+)",
              "names": "tenant {tenant}"},
             {"id": "sqlalchemy-mapper-unresolved-name", "title": "Ours", "pattern": "failed to locate"}]
    merged = F["dbl_known_issues_catalogue"](CATALOGUE, extra)
    assert [(entry["id"], entry["title"]) for entry in merged] == [("quota", "Disk quota"),
                                                                  ("sqlalchemy-mapper-unresolved-name", "Ours")]
    groups = [{"sample": "ERROR: quota exceeded for tenant 42", "count": 1}]
    issue, = F["dbl_match_known_issues"](groups, merged)["known"]
    assert issue["names"] == ["tenant 42"]
    catalogue = F["dbl_known_issues_catalogue"]
    assert catalogue(CATALOGUE, []) == CATALOGUE == catalogue(CATALOGUE, None)


@pytest.mark.parametrize(("extra", "message"), [
    ([{"id": "x", "title": "X"}], "dbl_known_issues_catalogue: an entry needs an id, a title and a pattern: "),
    ([{"id": "x", "title": "X", "pattern": "("}],
     "dbl_known_issues_catalogue: the pattern of x does not compile: missing ), unterminated subpattern at position 0"),
    ({"id": "x"}, "dbl_known_issues_catalogue: expected the file's entries and the extra ones as lists"),
])
def test_the_catalogue_refuses_bad_entries(extra, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_known_issues_catalogue"](CATALOGUE, extra)


def test_known_issues_groups_by_catalogue_entry():
    catalogue = [{"id": "mapper", "title": "Mapper", "pattern": r"failed to locate a name \('Tenant'\)"}]
    groups = [{"sample": "Traceback ...\nexpression 'Tenant' failed to locate a name ('Tenant').", "count": 2},
              {"sample": "ERROR boom", "count": 1},
              {"sample": "... failed to locate a name ('Tenant')", "count": 1}]
    result = F["dbl_match_known_issues"](groups, catalogue)
    assert [(k["id"], k["count"], len(k["groups"])) for k in result["known"]] == [("mapper", 3, 2)]
    assert result["new"] == [groups[1]]
    with pytest.raises(AnsibleFilterError, match="dbl_match_known_issues: expected"):
        F["dbl_match_known_issues"]({}, catalogue)


@pytest.mark.parametrize(("text", "color"), [
    ("upstream tsh_erp {\n    server 127.0.0.1:8002; # color=green\n}", "green"),
    ("upstream tsh_erp {\n  server 127.0.0.1:8001;\n}", "blue"),
    ("upstream tsh_erp {\n  server 127.0.0.1:9000;\n}", ""),
    ("upstream x {\n server 127.0.0.1:8001;\n server 127.0.0.1:8002;\n}", ""),
    ("", ""),
])
def test_upstream_color(text, color):
    assert F["dbl_upstream_color"](text, {"blue": 8001, "green": 8002}) == color


def test_upstream_live_gives_the_reason_with_the_colour():
    assert F["dbl_upstream_live"]("upstream app { server 127.0.0.1:8002; }", {"blue": 8001, "green": 8002}) == {
        "color": "green", "reason": ""}
    assert F["dbl_upstream_live"]("upstream tsh_erp { server 127.0.0.1:8001", {"blue": 8001, "green": 8002}) == {
        "color": "", "reason": 'the file is not valid nginx syntax: unexpected end of file, expecting ";" or "}"'}
    with pytest.raises(AnsibleFilterError, match="dbl_upstream_live: expected the colour ports as a dict"):
        F["dbl_upstream_live"]("", [8001])


def test_minutes_since_and_add_days():
    assert F["dbl_minutes_since"]("2025-11-05T15:41:00+00:00", "2025-11-05T15:48:30Z") == 7
    assert F["dbl_minutes_since"](None, "2025-11-05T15:48:30Z") is None
    # The unit restarted a second after the run read its clock: 0 minutes, never -1.
    assert F["dbl_minutes_since"]("2025-11-05T15:48:31Z", "2025-11-05T15:48:30Z") == 0
    assert F["dbl_add_days"]("2025-11-05T15:41:00+00:00", 7) == "2025-11-12"


# The fleet summary of a sliced job: this job's records, the other slices' latest baselines.
def test_fleet_rows_cover_every_host_whichever_job_measured_it():
    fleet = FilterModule().filters()["dbl_baseline_fleet"]
    ours = {"host": "erp-2", "measured_at": "2026-12-02T06:00:05Z", "unit": "tsh_erp-green",
            "verdict": {"status": "warning", "text": "Needs attention"}, "summary": {"error_count": 2}}
    # A head as baseline_history reads it from a latest.yml: the verdict's status only.
    theirs = {"host": "erp-1", "measured_at": "2026-12-02T06:00:01Z", "service": "tsh_erp", "color": "blue",
              "verdict": "ok", "summary": {"error_count": 0}}
    # Its journal read in part: its count is a lower bound, and says so.
    cut = {"host": "erp-3", "measured_at": "2026-12-02T06:00:02Z", "service": "tsh_erp", "color": "green",
           "verdict": "ok", "summary": {"error_count": 812}, "journal": {"bound": "read in part"}}
    result = fleet(["erp-3", "erp-1", "erp-2"], [ours], [theirs], "/srv/reports")
    assert (result["hosts"], result["with_baseline"], result["this_run"]) == (3, 2, 1)
    assert [row["host"] for row in result["rows"]] == ["erp-1", "erp-2", "erp-3"]
    assert result["rows"][0] == {"host": "erp-1", "environment": None, "service": "tsh_erp",
                                 "measured_at": "2026-12-02T06:00:01Z", "this_run": False,
                                 "status": "ok", "text": "Good", "reasons": None, "unit": "tsh_erp-blue",
                                 "summary": {"error_count": 0}, "lower_bounds": {}, "errors_text": "0"}
    assert result["rows"][1]["this_run"] and result["rows"][1]["text"] == "Needs attention"
    assert result["rows"][2] == {"host": "erp-3", "missing": "no baseline in /srv/reports", "this_run": False}
    assert fleet(["erp-3"], [], [cut])["rows"][0]["errors_text"] == "at least 812 (read in part)"


def test_fleet_prefers_this_runs_record_and_rejects_what_is_not_a_record():
    fleet = FilterModule().filters()["dbl_baseline_fleet"]
    old = {"host": "erp-1", "measured_at": "2026-12-01T06:00:00Z", "verdict": "critical", "summary": {}}
    new = {"host": "erp-1", "measured_at": "2026-12-02T06:00:00Z", "verdict": {"status": "ok"}, "summary": {}}
    assert fleet(["erp-1"], [new], [old])["rows"][0]["measured_at"] == "2026-12-02T06:00:00Z"
    with pytest.raises(AnsibleFilterError, match=r"^dbl_baseline_fleet: expected baseline records with a host"):
        fleet(["erp-1"], [{"summary": {}}], [])
    with pytest.raises(AnsibleFilterError, match=r"^dbl_baseline_fleet: expected the fleet's hosts"):
        fleet("erp-1", [], [])


SWITCHED = {"service": "tsh_erp", "kind": "switch", "from": "blue", "to": "green",
            "switched_at": "2026-12-02T04:02:59Z"}


@pytest.mark.parametrize(("switch", "problem", "since", "expected"), [
    # Green started before it took traffic (started and warmed, then switched to): the switch is the deploy.
    (SWITCHED, None, "2026-12-02T03:50:00+00:00",
     ("2026-12-02T04:02:59Z", "switch", "the blue/green switch from blue to green at 2026-12-02T04:02:59Z")),
    # Started at the very second of the switch: still the switch.
    (SWITCHED, None, "2026-12-02T04:02:59+00:00", ("2026-12-02T04:02:59Z", "switch", None)),
    (dict(SWITCHED, kind="rollback"), None, "2026-12-02T03:50:00+00:00",
     ("2026-12-02T04:02:59Z", "rollback", "the blue/green rollback from blue to green at 2026-12-02T04:02:59Z")),
    # A plain restart deploy after the switch: the unit's start.
    (SWITCHED, None, "2026-12-02T05:00:00+00:00",
     ("2026-12-02T05:00:00+00:00", "unit_start", "the unit's start at 2026-12-02T05:00:00+00:00 "
      "(it restarted after the switch to green at 2026-12-02T04:02:59Z)")),
    (dict(SWITCHED, to="blue", **{"from": "green"}), None, "2026-12-02T03:50:00+00:00",
     ("2026-12-02T03:50:00+00:00", "unit_start", "the unit's start at 2026-12-02T03:50:00+00:00 "
      "(the last switch, at 2026-12-02T04:02:59Z, pointed at blue)")),
    (None, None, "2026-12-02T03:50:00+00:00",
     ("2026-12-02T03:50:00+00:00", "unit_start",
      "the unit's start at 2026-12-02T03:50:00+00:00 (no blue/green switch recorded)")),
    (None, "unable to read the switch record /x: Permission denied", "2026-12-02T03:50:00+00:00",
     ("2026-12-02T03:50:00+00:00", "unit_start", "the unit's start at 2026-12-02T03:50:00+00:00 "
      "(unable to read the switch record /x: Permission denied)")),
    (SWITCHED, None, None, ("2026-12-02T04:02:59Z", "switch", None)),  # the unit is down: the switch still stands
    (None, None, None, (None, None, "unknown (no blue/green switch recorded; the unit's start is not known)")),
])
def test_the_deploy_is_the_switch_to_the_live_colour_else_the_units_start(switch, problem, since, expected):
    deploy = baseline_live.deploy_time(switch, problem, "green", since)
    at, source, text = expected
    assert (deploy["at"], deploy["source"]) == (at, source)
    assert text is None or deploy["text"] == text


def test_a_switch_time_in_microseconds_since_the_epoch():
    assert baseline_live.epoch_us("1970-01-01T00:00:01Z") == 1_000_000
    assert baseline_live.epoch_us("2026-12-02T04:02:59.000001+00:00") == 1_796_184_179_000_001
    assert baseline_live.epoch_us("2026-12-02T05:02:59+01:00") == 1_796_184_179_000_000
