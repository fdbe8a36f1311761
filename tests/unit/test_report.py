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

ROLE = PROJECT / "roles" / "baseline"
GOLDEN = PROJECT / "tests" / "golden"
SCHEMA = json.loads((PROJECT / "schemas" / "baseline.schema.json").read_text())
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
CATALOGUE = yaml.safe_load((ROLE / "files" / "known_issues.yml").read_text())
baseline_record = FilterModule().filters()["baseline_record"]


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
    }
    found.update(override)
    return found


def render(template, record):
    templar = Templar(loader=DataLoader(), variables={
        "baseline_record": record, "baseline_warm_samples": 20, "ansible_user": "root",
        "ansible_host": "erp.demo.test", "ansible_port": 22})
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
    unit.update(exact=False, lines_read=612_000, covered_pct=61.0, read_until="2026-11-29T18:14:02+00:00",
                error_count=812)
    journal["groups"] = [dict(group, count=800) for group in journal["groups"] if group["unit"] == "tsh_erp-green"]
    journal["other_groups"] = [{"unit": "tsh_erp-green", "count": 12, "first_seen": "2026-11-29T18:15:40+00:00",
                                "last_seen": "2026-11-29T18:14:02+00:00"}]
    journal.update(exact=False, lines_read=612_000, error_count=812,
                   units={"tsh_erp-green": unit})
    return found


CASES = {
    "healthy": lambda: (results(), context()),
    "journal_cut": lambda: (results(journal=journal_cut()), context()),
    "second_run": lambda: (results(), context(
        measured_at="2026-11-30T18:16:00Z",
        history=[baseline_record(results(), context())])),
    "unreachable": lambda: (
        {"units": {"unreachable": True, "msg": "Failed to connect to the host via ssh: Connection refused"},
         "http_public": recorded("http_probe")},
        context(color="", unreachable_reason="Failed to connect to the host via ssh: Connection refused")),
    "redis_down": lambda: (results(redis={"changed": False, "redis": {
        "reachable": False, "error_kind": "refused",
        "error": "unable to connect to Redis at 127.0.0.1:6379: Connection refused"}}), context()),
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
                                 "read_until": "2026-11-29T18:14:02+00:00", "bound": bound}
    errors = next(v for v in record["targets"][0]["verdicts"] if v["metric"] == "error_count")
    assert errors["actual"] == f"at least 812 ({bound})"
    assert errors["status"] == "pending" and errors["reason"].startswith("not met yet")  # 812 > 0, due later
    report = render("report.md.j2", record).splitlines()
    assert f"⚠️ **Errors since deploy:** at least 812 ({bound}); every count below is a lower bound." in report
    assert f"**Seen:** at least 800 time(s) since the unit started ({bound})" in report
    assert ("**Seen:** at least 12 time(s), first 2026-11-29T18:15:40+00:00, last 2026-11-29T18:14:02+00:00 "
            f"({bound}): the errors of its groups beyond those above, counted together.") in report
    written = yaml.safe_load(render("baseline.yml.j2", record))
    assert written["journal"]["exact"] is False and written["journal"]["covered_pct"] == 61.0


@pytest.mark.parametrize(("rule", "value", "status"), [
    ({"max": 0}, 3, "critical"), ({"max": 5}, 3, "pending"), ({"equals": 3}, 3, "pending"),
    ({"min": 2}, 3, "ok"), ({"min": 5}, 3, "pending"),
])
def test_a_lower_bound_decides_a_threshold_only_when_it_already_does(rule, value, status):
    judge = FilterModule().filters()["judge"]
    verdict, = judge({"error_count": value}, {"error_count": dict(rule, severity="critical")}, {},
                     {"error_count": "read in part"})
    assert (verdict["status"], verdict["actual"]) == (status, f"at least {value} (read in part)")


def test_second_run_compares_with_the_first():
    found, ctx = CASES["second_run"]()
    record = baseline_record(found, ctx)
    assert record["comparison"]["previous_measured_at"] == "2026-11-29T18:16:00Z"
    assert {r["delta_pct"] for r in record["comparison"]["rows"] if r["metric"] != "uptime_s"} <= {0.0, None}
    assert len(record["trend"][0]["points"]) == 2


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
