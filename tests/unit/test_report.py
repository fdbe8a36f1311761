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
    "live_colour_unknown": lambda: (results(journal={"skipped": True}), context(color="", upstream=UPSTREAM_BOTH_LIVE)),
    "include_changed_after_load": lambda: (results(), context(upstream=UPSTREAM_CHANGED)),
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


def test_second_run_compares_with_the_first():
    found, ctx = CASES["second_run"]()
    record = baseline_record(found, ctx)
    assert record["comparison"]["previous_measured_at"] == "2026-11-29T18:16:00Z"
    assert {r["delta_pct"] for r in record["comparison"]["rows"] if r["metric"] != "uptime_s"} <= {0.0, None}
    assert len(record["trend"][0]["points"]) == 2


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
    service, note = report.split("\n")[5:7]
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
