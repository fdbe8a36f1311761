"""A service's report (module_utils/baseline_service.py) made of the fleet summary's rows, called
directly; then through its filter, dbl_service_reports. The rendered report is pinned by a golden
file in test_report.py."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible.module_utils import baseline_record as records
from ansible.module_utils import baseline_service
from ansible.module_utils.baseline_catalogue import ACROSS_HOSTS, METRICS
from baseline import FilterModule

EMPTY = dict.fromkeys(METRICS)


def head(host, status="ok", reasons=(), service="tsh_erp", environment="production", journal=None, **figures):
    """A baseline's head as dbl_parse_baselines reads it from a latest.yml."""
    return {"host": host, "environment": environment, "service": service, "color": "green",
            "measured_at": "2026-12-02T06:00:00Z", "verdict": status, "reasons": list(reasons),
            "summary": EMPTY | figures, "journal": journal}


def members(*hosts, service="tsh_erp", environment="production"):
    return {host: {"environment": environment, "service": service, "public_url": "https://erp.example.com"}
            for host in hosts}


def report(heads, hosts=None, folder="reports"):
    """The one service's report of a fleet of these heads (and hosts without a baseline)."""
    hosts = hosts or [h["host"] for h in heads]
    fleet = records.baseline_fleet(hosts, [], heads, folder)
    [(key, found)] = baseline_service.service_reports(fleet, members(*hosts), "2026-12-02T06:00:09Z").items()
    assert key == "production/tsh_erp"
    return found


def figure(found, metric):
    return next(f for f in found["figures"] if f["metric"] == metric)


def test_each_figure_is_made_of_the_hosts_values_as_the_catalogue_says():
    found = report([head("app-1", api_response_time_cold_ms=40.0, app_memory_bytes=100, uptime_s=600.0),
                    head("app-2", api_response_time_cold_ms=61.5, app_memory_bytes=250, uptime_s=90.0)])
    assert [f["metric"] for f in found["figures"]] == list(METRICS)
    cold = figure(found, "api_response_time_cold_ms")
    assert cold["values"] == [{"how": "mean", "value": 50.75, "host": None},
                              {"how": "max", "value": 61.5, "host": "app-2"}]
    assert (cold["measured"], cold["hosts"], cold["covers"]) == (2, 2, "2 of 2 hosts")
    assert figure(found, "app_memory_bytes")["values"][0] == {"how": "sum", "value": 350, "host": None}
    assert figure(found, "uptime_s")["values"] == [{"how": "min", "value": 90.0, "host": "app-2"}]
    assert (found["hosts"], found["with_baseline"], found["this_run"]) == (2, 2, 0)
    assert found["public_urls"] == ["https://erp.example.com"] and found["built_at"] == "2026-12-02T06:00:09Z"


def test_a_host_that_did_not_measure_a_figure_or_has_no_baseline_is_left_out_and_named():
    found = report([head("app-1", cache_hit_rate_pct=90.0, error_count=3),
                    head("app-2", "critical", ["Redis: refused"], error_count=4),
                    head("app-3", cache_hit_rate_pct=70.0, error_count=0)], ["app-1", "app-2", "app-3", "app-4"])
    hits = figure(found, "cache_hit_rate_pct")
    assert hits["values"] == [{"how": "mean", "value": 80.0, "host": None},
                              {"how": "min", "value": 70.0, "host": "app-3"}]
    assert (hits["measured"], hits["not_measured"], hits["no_baseline"]) == (2, ["app-2"], ["app-4"])
    assert hits["covers"] == "2 of 4 hosts; not measured on app-2; no baseline of app-4"
    errors = figure(found, "error_count")
    assert errors["values"][0] == {"how": "sum", "value": 7, "host": None}  # app-4 is left out, and said to be
    assert errors["covers"] == "3 of 4 hosts; no baseline of app-4"
    memory = figure(found, "app_memory_bytes")  # measured nowhere: no value, never 0
    assert [v["value"] for v in memory["values"]] == [None, None]
    assert memory["covers"] == "0 of 4 hosts; not measured on app-1, app-2, app-3; no baseline of app-4"


def test_a_lower_bound_of_one_host_makes_the_services_figure_one_and_says_whose():
    cut = records.journal_reading({"exact": False, "lines_read": 612_000, "max_seconds": 30})
    found = report([head("app-1", error_count=812, journal=cut), head("app-2", error_count=1)])
    errors = figure(found, "error_count")
    assert errors["values"][0]["value"] == 813
    assert errors["lower_bound"] == f"app-1: {cut['bound']}"
    assert figure(found, "app_memory_bytes")["lower_bound"] is None


def test_the_verdict_names_the_hosts_at_the_worst_status_and_why():
    found = report([head("app-1", "warning", ["Application: active (running), restarted 2 time(s)"]),
                    head("app-2", "critical", ["Redis: unable to connect to Redis at 127.0.0.1:6379: refused"]),
                    head("app-3")])
    verdict = found["verdict"]
    assert (verdict["status"], verdict["text"], verdict["hosts"]) == ("critical", "Critical", ["app-2"])
    assert verdict["summary"] == "critical: app-2 — Redis: unable to connect to Redis at 127.0.0.1:6379: refused"
    assert [(f["host"], f["status"]) for f in verdict["faults"]] == [("app-2", "critical"), ("app-1", "warning")]


def test_several_hosts_at_fault_are_each_named_and_a_host_without_a_baseline_is_failed():
    found = report([head("app-1", "critical", ["Redis: refused", "Database: refused"]),
                    head("app-2", "critical", ["Application: inactive (dead)"])])
    assert found["verdict"]["summary"] == (
        "critical: app-1 — Redis: refused; Database: refused; app-2 — Application: inactive (dead)")
    missing = report([head("app-1", "critical", ["Redis: refused"])], ["app-1", "app-2"], "/srv/reports")
    assert missing["verdict"]["summary"] == "failed: app-2 — no baseline in /srv/reports"
    assert missing["verdict"]["faults"][1] == {"host": "app-1", "status": "critical", "reasons": ["Redis: refused"]}


def test_a_good_service_names_no_host_and_an_old_baseline_is_said_to_give_no_reason():
    assert report([head("app-1"), head("app-2", "pending")])["verdict"] == {
        "status": "pending", "text": "Good", "summary": "pending: none of the 2 hosts at fault", "hosts": [],
        "faults": []}
    old = head("app-2", "critical")
    old["reasons"] = None  # written before records said why
    assert report([head("app-1"), old])["verdict"]["summary"] == (
        "critical: app-2 — Critical (its baseline of 2026-12-02T06:00:00Z does not say why)")
    unjudged = head("app-2", None)
    assert report([head("app-1"), unjudged])["verdict"]["summary"] == (
        "failed: app-2 — its baseline of 2026-12-02T06:00:00Z holds no verdict")


def test_one_report_per_service_of_several_hosts_in_each_environment():
    heads = [head("a1"), head("a2"), head("b1", service="billing"), head("s1", environment="staging"),
             head("s2", environment="staging")]
    hosts = [h["host"] for h in heads] + ["a3", "s3"]
    fleet = records.baseline_fleet(hosts, [], heads)
    inventory = members("a1", "a2", "a3", "b1") | members("s1", "s2", "s3", environment="staging")
    # A host belongs to the service its baseline names, whatever the inventory says now.
    inventory["b1"] = {"environment": "production", "service": "tsh_erp"}
    found = baseline_service.service_reports(fleet, inventory)
    assert list(found) == ["production/tsh_erp", "staging/tsh_erp"]  # billing runs on one host: no report
    assert [row["host"] for row in found["production/tsh_erp"]["rows"]] == ["a1", "a2", "a3"]
    assert [row["host"] for row in found["staging/tsh_erp"]["rows"]] == ["s1", "s2", "s3"]
    assert found["production/tsh_erp"]["rows"][2] == {"host": "a3", "missing": "no baseline", "this_run": False}
    assert baseline_service.service_reports(records.baseline_fleet(["a1"], [], [head("a1")]), members("a1")) == {}


def test_bad_input_is_refused_naming_what_is_wrong():
    fleet = records.baseline_fleet(["a1", "a2"], [], [head("a1")])
    for args, message in [
        (([], {}), "expected the fleet summary (baseline_fleet) as a dict with rows"),
        ((fleet, []), "expected the hosts' services as a dict: {host: {environment, service, public_url}}"),
        (({"rows": [{"summary": {}}]}, {}), "expected the fleet summary's rows, got {'summary': {}}"),
        ((fleet, members("a1")), "expected the environment and the service of a2 as strings, got None"),
    ]:
        with pytest.raises(records.RecordError) as raised:
            baseline_service.service_reports(*args)
        assert str(raised.value) == message


def test_every_way_across_hosts_of_the_catalogue_is_computed_here():
    assert tuple(baseline_service.AGGREGATES) == ACROSS_HOSTS


def test_the_filter_reads_each_hosts_service_from_its_variables_else_the_plays():
    service_reports = FilterModule().filters()["dbl_service_reports"]
    fleet = records.baseline_fleet(["a1", "a2", "a3"], [], [head("a1"), head("a2", environment="staging")])
    plays = {"environment": "staging", "service": "tsh_erp", "public_url": "https://erp.example.com"}
    inventory = {"a1": {}, "a2": {"baseline_public_url": "https://erp-2.example.com"}, "a3": {}}
    found = service_reports(fleet, inventory, plays, "2026-12-02T06:00:09Z")
    assert list(found) == ["staging/tsh_erp"]
    assert [row["host"] for row in found["staging/tsh_erp"]["rows"]] == ["a2", "a3"]
    assert found["staging/tsh_erp"]["public_urls"] == ["https://erp-2.example.com", "https://erp.example.com"]
    with pytest.raises(AnsibleFilterError, match=r"^dbl_service_reports: expected the hosts' variables and the"):
        service_reports(fleet, ["a1"], plays)
    with pytest.raises(AnsibleFilterError, match=r"^dbl_service_reports: expected the fleet summary"):
        service_reports([], inventory, plays)
