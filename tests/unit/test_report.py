"""The report and the baseline, rendered by the role's templates from real recorded facts.

The facts are results the modules returned over SSH from the demo target
(tests/fixtures/results); the rendering is pinned by golden files in tests/golden. After an
intended change of the report, regenerate them with UPDATE_GOLDEN=1 pytest tests/unit/test_report.py
and read the diff.
"""

import json
import os

import jsonschema
import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from baseline import FilterModule
from conftest import FIXTURES, PROJECT
from trend import FilterModule as TrendFilters

ROLE = PROJECT / "roles" / "baseline"
GOLDEN = PROJECT / "tests" / "golden"
SCHEMA = json.loads((PROJECT / "schemas" / "baseline.schema.json").read_text())
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
CATALOGUE = yaml.safe_load((ROLE / "files" / "known_issues.yml").read_text())
baseline_record = FilterModule().filters()["dbl_baseline_record"]


def recorded(module):
    return json.loads((FIXTURES / "results" / f"{module}.json").read_text())


def recorded_scan(name):
    return json.loads((FIXTURES / "redis" / "scan" / f"result_{name}.json").read_text())


def results(**override):
    found = {
        "units": recorded("systemd_unit_facts"), "journal": recorded("journal_errors"),
        "redis": recorded("redis_facts"), "postgres": recorded("postgres_facts"),
        "http_local": {"skipped": True}, "http_public": recorded("http_probe"), "load": recorded("http_load"),
    }
    found.update(override)
    return found


def context(**override):
    found = {
        "host": "demo", "environment": "demo", "service": "tsh_erp", "color": "green",
        "measured_at": "2026-11-29T18:16:00Z", "public_url": "https://erp.demo.test",
        "unreachable_reason": "", "thresholds": DEFAULTS["baseline_thresholds"],
        "targets": DEFAULTS["baseline_targets"], "known_issues": CATALOGUE, "history": [], "noise_pct": 10,
        "history_source": {"store": "controller", "location": "reports/demo", "count": 0},
        "noise_min_baselines": 5,
    }
    found.update(override)
    return found


def render(template, record=None, **variables):
    templar = Templar(loader=DataLoader(), variables={
        "baseline_record": record, "baseline_warm_samples": 20, "ansible_user": "root",
        "ansible_host": "erp.demo.test", "ansible_port": 22, **variables})
    return templar.template(trust_as_template((ROLE / "templates" / template).read_text()))


def check_golden(name, text):
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; if intended, run with UPDATE_GOLDEN=1 and review the diff"


JOURNAL_DENIED = ("reading the journal of tsh_erp-green: user baseline may not read the system journal "
                  "(/var/log/journal/3caf15e6dbe73a8c594ebb1653eb71e1/system.journal); "
                  "add it to the group systemd-journal")

def journal_cut():
    """journal_errors' result when its 30 s limit cut the reading: the recorded one, with the
    figures of a cut reading, and errors of groups beyond max_groups."""
    found = recorded("journal_errors")
    journal = found["journal_errors"]
    unit = journal["units"]["tsh_erp-green"]
    # The unit started at 18:15:26; the reading ended at 18:15:59, having read 61 % of the 33 s since:
    # up to 18:15:46. Every group's times lie within what was read.
    unit.update(exact=False, lines_read=612_000, covered_pct=61.0, read_until="2026-11-29T18:15:46+00:00",
                error_count=812)
    journal["groups"] = [dict(group, count=800, last_seen="2026-11-29T18:15:46+00:00")
                         for group in journal["groups"] if group["unit"] == "tsh_erp-green"]
    journal["other_groups"] = [{"unit": "tsh_erp-green", "count": 12, "first_seen": "2026-11-29T18:15:29+00:00",
                                "last_seen": "2026-11-29T18:15:45+00:00"}]
    journal.update(exact=False, lines_read=612_000, error_count=812,
                   units={"tsh_erp-green": unit})
    return found


# baseline_facts' upstream result: the include named both colours live; or it was changed after nginx's last load.
UPSTREAM_BOTH_LIVE = {
    "file": "/etc/nginx/tsh_erp-upstream.conf",
    "reason": "the upstream tsh_erp names 127.0.0.1:8001 and 127.0.0.1:8002, both live",
    "modified_at": "2026-11-29T18:10:04.512Z", "loaded_at": "2026-11-29T18:10:04.730Z", "loaded_at_error": "",
    "changed_after_load": False}
UPSTREAM_CHANGED = {
    "file": "/etc/nginx/tsh_erp-upstream.conf", "reason": "",
    "modified_at": "2026-11-29T18:12:41.207Z", "loaded_at": "2026-11-29T17:58:03.410Z", "loaded_at_error": "",
    "changed_after_load": True}

CASES = {
    "healthy": lambda: (results(), context()),
    "journal_cut": lambda: (results(journal=journal_cut()), context()),
    # A cut reading after an exact baseline and a cut one: every error count of the comparison and
    # the trend that is a lower bound says so.
    "journal_cut_compared": lambda: (results(journal=journal_cut()), context(
        measured_at="2026-11-30T18:16:00Z",
        history=[baseline_record(results(), context(measured_at="2026-11-28T18:16:00Z")),
                 baseline_record(results(journal=journal_cut()), context())],
        history_source={"store": "controller", "location": "reports/demo", "count": 2})),
    "live_colour_unknown": lambda: (results(journal={"skipped": True}), context(color="", upstream=UPSTREAM_BOTH_LIVE)),
    "include_changed_after_load": lambda: (results(), context(upstream=UPSTREAM_CHANGED)),
    "second_run": lambda: (results(), context(
        measured_at="2026-11-30T18:16:00Z",
        history=[baseline_record(results(), context())],
        history_source={"store": "controller", "location": "reports/demo", "count": 1})),
    # An AWX job on a fresh copy of the project: the history came from the host, which holds more
    # baselines than the comparison reads.
    "second_run_host_history": lambda: (results(), context(
        measured_at="2026-11-30T18:16:00Z",
        history=[baseline_record(results(), context())],
        history_source={"store": "host", "location": "demo:/var/lib/deploy-baseline/tsh_erp", "count": 14})),
    "unreachable": lambda: (
        {"units": {"unreachable": True, "msg": "Failed to connect to the host via ssh: Connection refused"},
         "http_public": recorded("http_probe")},
        context(color="", unreachable_reason="Failed to connect to the host via ssh: Connection refused")),
    "redis_down": lambda: (results(redis={"changed": False, "redis": {
        "reachable": False, "error_kind": "refused",
        "error": "unable to connect to Redis at 127.0.0.1:6379: Connection refused"}}), context()),
    # Measured 11 s after the switch to green recorded on the demo target (the other facts are those of
    # 2026-11-29: green had run since then without taking traffic).
    "after_switch": lambda: (results(switch=recorded("baseline_facts")["switch"]),
                             context(measured_at="2026-12-02T04:03:10Z")),
    # redis_facts over a million keys: a pass cut by its 1 s limit, a pass whose connection was killed.
    "redis_scan_partial": lambda: (results(redis=recorded_scan("partial")), context()),
    "redis_scan_lost": lambda: (results(redis=recorded_scan("killed_redispy")), context()),
    # journal_errors' failure, as the faults scenario's least-privilege user outside systemd-journal gets it.
    "journal_unreadable": lambda: (
        results(journal={"failed": True, "changed": False, "msg": JOURNAL_DENIED}), context()),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_report_matches_golden_and_baseline_validates(case):
    found, ctx = CASES[case]()
    record = baseline_record(found, ctx)
    check_golden(f"{case}.md", render("report.md.j2", record))
    written = yaml.safe_load(render("baseline.yml.j2", record))
    jsonschema.validate(written, SCHEMA)
    assert written["summary"] == record["summary"]


def test_unreachable_host_report_says_so_and_measures_nothing_on_it():
    found, ctx = CASES["unreachable"]()
    record = baseline_record(found, ctx)
    assert record["reachable"] is False
    assert record["problems"]["host"].startswith("host unreachable: Failed to connect")
    assert record["summary"]["app_memory_bytes"] is None
    assert record["summary"]["api_response_time_cold_ms"] is not None  # the public URL was still probed
    assert record["verdict"]["status"] == "failed"


def test_redis_down_is_marked_and_other_sections_stay():
    found, ctx = CASES["redis_down"]()
    record = baseline_record(found, ctx)
    assert record["status"]["Redis"] == {
        "status": "critical", "text": "unable to connect to Redis at 127.0.0.1:6379: Connection refused"}
    assert record["status"]["Database"]["status"] == "ok"
    assert record["summary"]["cache_hit_rate_pct"] is None
    cache = next(v for v in record["verdicts"] if v["metric"] == "cache_hit_rate_pct")
    assert cache["status"] == "pending"


def test_unreadable_journal_is_marked_and_counts_as_not_measured():
    found, ctx = CASES["journal_unreadable"]()
    record = baseline_record(found, ctx)
    assert record["problems"] == {"journal": JOURNAL_DENIED}
    assert record["summary"]["error_count"] is None
    assert record["verdict"]["status"] == "failed"
    assert record["status"] == baseline_record(*CASES["healthy"]())["status"]  # the other parts as they are
    report = render("report.md.j2", record)
    assert f"❌ The journal could not be read: {JOURNAL_DENIED}" in report.splitlines()


def test_a_cut_journal_reading_shows_its_bound_next_to_each_count():
    found, ctx = CASES["journal_cut"]()
    record = baseline_record(found, ctx)
    bound = "612,000 lines, 61 % of the time since the start, were read in the 30 s limit"
    assert record["journal"] == {"exact": False, "lines_read": 612_000, "max_seconds": 30.0, "covered_pct": 61.0,
                                 "read_until": "2026-11-29T18:15:46+00:00", "bound": bound}
    errors = next(v for v in record["targets"][0]["verdicts"] if v["metric"] == "error_count")
    assert errors["actual"] == f"at least 812 ({bound})"
    assert errors["status"] == "pending" and errors["reason"].startswith("not met yet")  # 812 > 0, due later
    report = render("report.md.j2", record).splitlines()
    assert f"⚠️ **Errors since deploy:** at least 812 ({bound}); every count below is a lower bound." in report
    assert f"**Seen:** at least 800 time(s) since the unit started ({bound})" in report
    assert ("**Seen:** at least 12 time(s), first 2026-11-29T18:15:29+00:00, last 2026-11-29T18:15:45+00:00 "
            f"({bound}): the errors of its groups beyond those above, counted together.") in report
    written = yaml.safe_load(render("baseline.yml.j2", record))
    assert written["journal"]["exact"] is False and written["journal"]["covered_pct"] == 61.0


def test_a_cut_reading_is_a_lower_bound_in_the_comparison_and_the_trend():
    record = baseline_record(*CASES["journal_cut_compared"]())
    bound = record["journal"]["bound"]
    errors = next(row for row in record["comparison"]["rows"] if row["metric"] == "error_count")
    assert (errors["previous_text"], errors["current_text"], errors["change_text"]) == (
        f"at least 812 ({bound})", f"at least 812 ({bound})", "n/a: both are lower bounds")
    trend = next(row for row in record["trend"] if row["metric"] == "error_count")
    assert (trend["min_text"], trend["max_text"], trend["last_text"]) == ("2", f"at least 812 ({bound})",
                                                                          f"at least 812 ({bound})")
    report = render("report.md.j2", record).splitlines()
    assert any(line.startswith(f"| Errors since deploy | at least 812 ({bound}) | at least 812 ({bound}) | "
                               "n/a: both are lower bounds |") for line in report)


def row_of(previous, current):
    return {"metric": "error_count", "label": "Errors since deploy", "previous": previous, "current": current,
            "delta_pct": round((current - previous) / previous * 100, 1), "judged": True,
            "regression": current > previous, "note": ""}


@pytest.mark.parametrize(("bounds", "previous", "current", "shown", "regression", "note"), [
    ((None, None), 10, 40, ("10", "40", "300.0 %"), True, ""),
    # now a lower bound: the true count is higher still: a regression stays one, no change says less
    ((None, "read in part"), 10, 40, ("10", "at least 40 (read in part)", "at least 300.0 %"), True, ""),
    ((None, "read in part"), 40, 10, ("40", "at least 10 (read in part)", "at least -75.0 %"), False,
     "not known: the count now is a lower bound"),
    # the previous one a lower bound: it may have been higher, so more now is no known regression
    (("read in part", None), 10, 40, ("at least 10 (read in part)", "40", "at most 300.0 %"), False,
     "not known: the previous baseline's count is a lower bound"),
])
def test_a_lower_bound_in_a_comparison_says_so_and_claims_no_unknown_regression(
        bounds, previous, current, shown, regression, note):
    from ansible.module_utils.baseline_record import shown_figures
    rows, _ = shown_figures([row_of(previous, current)], [], list(bounds))
    assert (rows[0]["previous_text"], rows[0]["current_text"], rows[0]["change_text"]) == shown
    assert (rows[0]["regression"], rows[0]["note"]) == (regression, note)


@pytest.mark.parametrize(("rule", "value", "status"), [
    ({"max": 0}, 3, "critical"), ({"max": 5}, 3, "pending"), ({"equals": 3}, 3, "pending"),
    ({"min": 2}, 3, "ok"), ({"min": 5}, 3, "pending"),
])
def test_a_lower_bound_decides_a_threshold_only_when_it_already_does(rule, value, status):
    judge = FilterModule().filters()["dbl_judge_thresholds"]
    verdict, = judge({"error_count": value}, {"error_count": dict(rule, severity="critical")}, {},
                     {"error_count": "read in part"})
    assert (verdict["status"], verdict["actual"]) == (status, f"at least {value} (read in part)")


def test_second_run_compares_with_the_first():
    found, ctx = CASES["second_run"]()
    record = baseline_record(found, ctx)
    assert record["comparison"]["previous_measured_at"] == "2026-11-29T18:16:00Z"
    assert {r["delta_pct"] for r in record["comparison"]["rows"] if r["metric"] != "uptime_s"} <= {0.0, None}
    assert len(record["trend"][0]["points"]) == 2


def test_after_a_switch_the_deploy_is_the_switch():
    record = baseline_record(*CASES["after_switch"]())
    assert (record["deployed_at"], record["deployed_at_source"]) == ("2026-12-02T04:02:59Z", "switch")
    assert record["minutes_since_deploy"] == 0
    assert record["targets"][0]["due"] == "2026-12-09"  # Day 7 from the switch, not from the unit's start
    report = render("report.md.j2", record).splitlines()
    assert "**Time:** 04:03 UTC (0 minutes post-deployment)" in report
    assert "**Deployed:** the blue/green switch from blue to green at 2026-12-02T04:02:59Z" in report
    # Without the record, the same facts count from the unit's start, and say so.
    plain = baseline_record(results(), context(measured_at="2026-12-02T04:03:10Z"))
    assert (plain["deployed_at"], plain["deployed_at_source"]) == ("2026-11-29T18:15:26+00:00", "unit_start")
    assert plain["targets"][0]["due"] == "2026-12-06"


def test_after_a_switch_the_errors_since_the_traffic_are_shown_beside_those_since_the_start():
    journal = recorded("journal_errors")
    # Green's two errors were logged at its start, before the switch: none since it took traffic.
    found = results(switch=recorded("baseline_facts")["switch"],
                    journal=dict(journal, journal_errors=dict(journal["journal_errors"], error_events_since_traffic=0)))
    record = baseline_record(found, context(measured_at="2026-12-02T04:03:10Z"))
    assert (record["summary"]["error_count"], record["errors_since_traffic"]) == (2, 0)
    report = render("report.md.j2", record).splitlines()
    assert "**Errors:** 2 since the unit started, 0 since it took traffic" in report
    jsonschema.validate(yaml.safe_load(render("baseline.yml.j2", record)), SCHEMA)
    # The same counts, or no switch to count from: one count, as before.
    for same in (dict(journal, journal_errors=dict(journal["journal_errors"], error_events_since_traffic=2)), journal):
        record = baseline_record(results(switch=recorded("baseline_facts")["switch"], journal=same),
                                 context(measured_at="2026-12-02T04:03:10Z"))
        assert not any(line.startswith("**Errors:**") for line in render("report.md.j2", record).splitlines())
    assert baseline_record(results(journal=dict(journal, journal_errors=dict(
        journal["journal_errors"], error_events_since_traffic=0))), context())["errors_since_traffic"] is None


def test_key_pattern_counts_show_in_cache_statistics_and_the_baseline():
    record = baseline_record(*CASES["healthy"]())
    report = render("report.md.j2", record)
    cache = report[report.index("### Cache Statistics"):report.index("### System Resources")]
    assert "  - `products:*`: 2 (66.7 % of all keys)" in cache.splitlines()
    assert "  - `orders:*`: 1 (33.3 % of all keys)" in cache.splitlines()
    written = yaml.safe_load(render("baseline.yml.j2", record))
    assert (written["key_patterns"]["exact"], written["key_patterns"]["qualifier"]) == (True, None)


@pytest.mark.parametrize(("case", "qualifier"), [
    ("redis_scan_partial", "partial: 14 % of the 1.0M keys visited in the 1 s limit"),
    ("redis_scan_lost", "partial: 7 % of the 1.0M keys visited before the pass stopped: "
                        "unable to SCAN Redis at 127.0.0.1:6379: Connection closed by server"),
])
def test_a_partial_pass_is_marked_next_to_each_count_and_in_the_baseline(case, qualifier):
    record = baseline_record(*CASES[case]())
    report = render("report.md.j2", record)
    lines = [line for line in report.splitlines() if line.startswith("  - `")]
    assert len(lines) == 4
    assert all(" at least " in line and line.endswith(f"; {qualifier}") for line in lines)
    written = yaml.safe_load(render("baseline.yml.j2", record))
    assert written["key_patterns"]["qualifier"] == qualifier
    assert written["key_patterns"]["exact"] is False
    assert all(p["at_least"] for p in written["key_patterns"]["patterns"])


def test_the_reason_the_live_colour_could_not_be_told_is_in_the_report():
    found, ctx = CASES["live_colour_unknown"]()
    record = baseline_record(found, ctx)
    assert record["problems"]["unit"] == (
        "the live colour could not be told from nginx's upstream file /etc/nginx/tsh_erp-upstream.conf:"
        " the upstream tsh_erp names 127.0.0.1:8001 and 127.0.0.1:8002, both live; set baseline_color")
    assert record["upstream"]["note"] == ""


def test_an_include_changed_after_nginx_loaded_it_is_said_next_to_the_live_colour():
    found, ctx = CASES["include_changed_after_load"]()
    report = render("report.md.j2", baseline_record(found, ctx))
    service, note = report.split("\n")[6:8]  # after the title, date, time, deploy and environment
    assert service == "**Service:** tsh_erp-green (green)"
    assert note == ("**Upstream include:** ⚠️ the include /etc/nginx/tsh_erp-upstream.conf was changed at"
                    " 2026-11-29T18:12:41.207Z, after nginx last loaded its configuration at 2026-11-29T17:58:03.410Z:"
                    " the file may not be what nginx serves")


def test_an_unknown_last_load_is_said_with_its_reason():
    found, ctx = results(), context(upstream=dict(UPSTREAM_CHANGED, loaded_at=None, changed_after_load=None,
                                                  loaded_at_error="no nginx master process runs"))
    assert baseline_record(found, ctx)["upstream"]["note"] == (
        "whether the include /etc/nginx/tsh_erp-upstream.conf changed after nginx last loaded its configuration"
        " could not be told: no nginx master process runs")


# A service on three app hosts: app-1 and app-2 measured by this run (app-1's journal read in part,
# app-2's Redis refused), app-3's latest baseline read from its latest.yml (one the demo target's
# history recorded, tests/fixtures/history); or on two, one without a baseline.
def answered():
    """http_probe's recorded result without its endpoint on a closed port: every endpoint answered."""
    probe = recorded("http_probe")
    return dict(probe, http_probe=[e for e in probe["http_probe"] if e["ok"]])


NOW = "2026-11-29T19:02:00Z"  # after app-3's latest baseline
REDIS_REFUSED = {"changed": False, "redis": {
    "reachable": False, "error_kind": "refused",
    "error": "unable to connect to Redis at 127.0.0.1:6379: Connection refused"}}


def latest_of(host, recorded_name):
    """A baseline the demo target's history recorded, as another host's latest.yml."""
    text = (FIXTURES / "history" / recorded_name).read_text()
    return f"reports/{host}/latest.yml", text.replace("host: h4-ops\n", f"host: {host}\n")


def service_report(measured, latest, hosts):
    """The one service's report of this run's records and other hosts' latest.yml, as the role's fleet.yml makes it."""
    filters = FilterModule().filters()
    heads = TrendFilters().filters()["dbl_parse_baselines"]([text for _, text in latest], [name for name, _ in latest])
    fleet = filters["dbl_baseline_fleet"](hosts, measured, heads, "reports")
    plays = {"environment": "demo", "service": "tsh_erp", "public_url": "https://erp.demo.test"}
    [found] = filters["dbl_service_reports"](fleet, {host: {} for host in hosts}, plays, NOW).values()
    return found


SERVICE_CASES = {
    "service_redis_down": lambda: service_report(
        [baseline_record(results(http_public=answered(), journal=journal_cut()),
                         context(host="app-1", measured_at=NOW)),
         baseline_record(results(http_public=answered(), redis=REDIS_REFUSED), context(host="app-2", measured_at=NOW))],
        [latest_of("app-3", "20261129T185917Z.yml")], ["app-1", "app-2", "app-3"]),
    "service_host_missing": lambda: service_report(
        [baseline_record(results(http_public=answered()), context(host="app-1", measured_at=NOW))], [],
        ["app-1", "app-2"]),
}


@pytest.mark.parametrize("case", sorted(SERVICE_CASES))
def test_service_report_matches_golden_and_its_yaml_holds_the_same(case):
    found = SERVICE_CASES[case]()
    check_golden(f"{case}.md", render("service.md.j2", baseline_service_report=found, baseline_report_dir="reports"))
    assert yaml.safe_load(render("service.yml.j2", baseline_service_report=found)) == found


def test_the_service_report_names_the_host_at_fault_and_leaves_its_unmeasured_figures_out():
    found = SERVICE_CASES["service_redis_down"]()
    assert found["verdict"]["summary"] == (
        "critical: app-2 — Redis: unable to connect to Redis at 127.0.0.1:6379: Connection refused")
    report = render("service.md.j2", baseline_service_report=found, baseline_report_dir="reports").splitlines()
    assert ("**Verdict:** ❌ critical: app-2 — Redis: unable to connect to Redis at 127.0.0.1:6379:"
            " Connection refused") in report
    memory = next(line for line in report if line.startswith("| Redis memory |"))
    assert memory.endswith("| 2 of 3 hosts; not measured on app-2 |")
    # app-1's count is a lower bound (its journal was read in part): the service's is one too, said next to it.
    errors = next(line for line in report if line.startswith("| Errors since deploy |"))
    assert errors == ("| Errors since deploy | sum at least 815, max at least 812 (app-1); a lower bound (app-1: "
                      "612,000 lines, 61 % of the time since the start, were read in the 30 s limit) | 3 of 3 hosts |")
    missing = SERVICE_CASES["service_host_missing"]()
    assert missing["verdict"]["summary"] == "failed: app-2 — no baseline in reports"
