"""Datastores on hosts of their own: which hosts they are, their report, and what an app host's report says.

The datastore host's facts are datastore_host_facts' result recorded on a demo datastore host
(tests/fixtures/results/record_datastore_host.yml); the app host's are those of test_report.py. The
reports are pinned by golden files in tests/golden (UPDATE_GOLDEN=1 to regenerate, then read the diff).
"""

import json

import jsonschema
import pytest
import yaml
from ansible.errors import AnsibleFilterError
from baseline import FilterModule
from conftest import FIXTURES
from test_report import SCHEMA, check_golden, context, render, results

FILTERS = FilterModule().filters()
baseline_record = FILTERS["dbl_baseline_record"]
host_record = FILTERS["dbl_datastore_host_record"]
readings = FILTERS["dbl_datastore_readings"]
STAMP = "20261129T181600Z"
UNREACHABLE = ("Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 9: Connection refused")


def recorded():
    return json.loads((FIXTURES / "results" / "datastore_host_facts.json").read_text())


def ds_context(**override):
    found = {"host": "datastore-1", "environment": "demo", "measured_at": "2026-11-29T18:16:00Z", "stamp": STAMP,
             "serves": {"Redis": ["app-1", "app-2"], "Database": ["app-1", "app-2"]},
             "units": {"Redis": ["redis-server"], "Database": ["postgresql"]}}
    found.update(override)
    return found


def settings(ds_record, app="app-1", db_read_on="app-1", inventory_host="datastore-1", known=True):
    """The role's settings of a TLS Redis and an SSL PostgreSQL on datastore-1 (judge.yml builds them)."""
    common = {"app": app, "inventory_host": inventory_host, "known": known, "host_record": ds_record}
    return {
        "Redis": dict(common, read_on=app, host="datastore.demo.test", port=6379, tls=True,
                      tls_server_name="", user="baseline-monitor"),
        "Database": dict(common, read_on=db_read_on, host="datastore.demo.test", port=5432,
                         ssl_mode="verify-full", login_user="baseline_monitor", become_user=""),
    }


# ---------------------------------------------------------------- which hosts are datastore hosts


class HostVars(dict):
    """hostvars as a filter sees it: each host's variables, a Mapping."""


def test_the_hosts_the_app_hosts_name_are_the_datastore_hosts():
    hostvars = HostVars({
        "app-1": {"baseline_redis_inventory_host": "ds-1", "baseline_db_inventory_host": "ds-2"},
        "app-2": {"baseline_redis_inventory_host": "ds-1", "baseline_db_inventory_host": "ds-1"},
        "app-3": {},  # its datastores on itself, or managed
        "ds-1": {}, "ds-2": {},
    })
    hosts = sorted(hostvars)
    assert FILTERS["dbl_datastore_hosts"](hosts, hostvars, hosts) == {
        "ds-1": {"Redis": ["app-1", "app-2"], "Database": ["app-2"]},
        "ds-2": {"Database": ["app-1"]},
    }


def test_a_datastore_host_given_every_host_s_variables_is_not_its_own_app_host():
    # -e baseline_redis_inventory_host=ds-1 gives the variable to ds-1 as well.
    named = {host: {"baseline_redis_inventory_host": "ds-1"} for host in ("app-1", "ds-1")}
    assert FILTERS["dbl_datastore_hosts"](["app-1", "ds-1"], HostVars(named), ["app-1", "ds-1"]) == {
        "ds-1": {"Redis": ["app-1"]}}


def test_a_name_that_is_no_host_of_the_inventory_makes_no_datastore_host():
    hostvars = HostVars({"app-1": {"baseline_db_inventory_host": "ds-typo"}})
    assert FILTERS["dbl_datastore_hosts"](["app-1"], hostvars, ["app-1", "ds-1"]) == {}


def test_the_fleet_filter_names_itself_on_bad_input():
    with pytest.raises(AnsibleFilterError, match=r"^dbl_datastore_hosts: expected the inventory's hosts as a list"):
        FILTERS["dbl_datastore_hosts"](["app-1"], HostVars({"app-1": {}}), "app-1")


# ---------------------------------------------------------------- the datastore host's record and report


def test_the_datastore_host_s_units_are_its_datastores_and_their_members():
    record = host_record(recorded(), ds_context())
    rows = {d["kind"]: [(u["name"], u["member_of"], u["status"], u["text"]) for u in d["units"]]
            for d in record["datastores"]}
    assert rows == {
        "Redis": [("redis-server", None, "ok", "active (running)")],
        "Database": [("postgresql", None, "ok", "active (exited)"),
                     ("postgresql@15-main.service", "postgresql", "ok", "active (running)")],
    }
    cluster = record["datastores"][1]["units"][1]
    facts = recorded()["units"]["systemd_units"]["postgresql@15-main.service"]
    assert (cluster["memory_bytes"], cluster["restarts"], cluster["error_count"]) == (facts["memory_bytes"], 0, 0)
    assert record["verdict"] == {"status": "ok", "text": "Good"}
    assert record["datastores"][0]["app_hosts"] == [{"host": "app-1", "report": f"../app-1/{STAMP}.md"},
                                                    {"host": "app-2", "report": f"../app-2/{STAMP}.md"}]


def test_a_datastore_host_serves_only_what_the_app_hosts_name_on_it():
    record = host_record(recorded(), ds_context(serves={"Database": ["app-1"]}))
    assert [d["kind"] for d in record["datastores"]] == ["Database"]


def test_the_datastore_host_report_matches_golden():
    check_golden("datastore_host.md",
                 render("datastore.md.j2", baseline_datastore_record=host_record(recorded(), ds_context())))


def test_an_unreachable_datastore_host_gets_a_report_that_says_why():
    record = host_record({"unreachable": True, "msg": UNREACHABLE, "changed": False}, ds_context())
    assert record["reachable"] is False and record["verdict"]["status"] == "failed"
    assert record["problems"] == {"units": f"host unreachable: {UNREACHABLE}"}
    report = render("datastore.md.j2", baseline_datastore_record=record)
    check_golden("datastore_host_unreachable.md", report)
    assert f"- units: host unreachable: {UNREACHABLE}" in report.splitlines()


def test_journal_errors_of_a_unit_are_grouped_in_the_datastore_host_report():
    found = recorded()
    journal = json.loads((FIXTURES / "results" / "journal_errors.json").read_text())["journal_errors"]
    group = dict(journal["groups"][0], unit="postgresql@15-main.service", count=3)
    found["journal"]["journal_errors"]["groups"] = [group]
    found["journal"]["journal_errors"]["units"]["postgresql@15-main.service"]["error_count"] = 3
    report = render("datastore.md.j2", baseline_datastore_record=host_record(found, ds_context())).splitlines()
    assert f"### postgresql@15-main.service: {FILTERS['dbl_error_headline'](group['sample'])}" in report
    assert any(line.startswith("| postgresql@15-main.service (part of postgresql) | ✅ active (running) |")
               and line.endswith("| 0 | 3 |") for line in report)


# ---------------------------------------------------------------- what the app host's report says


def test_the_seed_s_local_datastores_add_nothing_to_the_report():
    local = {"Redis": {"app": "demo", "read_on": "demo", "host": "127.0.0.1", "port": 6379, "tls": False,
                       "tls_server_name": "", "user": "", "inventory_host": "", "known": True, "host_record": None},
             "Database": {"app": "demo", "read_on": "demo", "host": "", "port": 5432, "ssl_mode": "prefer",
                          "login_user": "", "become_user": "postgres", "inventory_host": "", "known": True,
                          "host_record": None}}
    found = readings(local, STAMP)
    assert found["Redis"]["local"] and found["Database"]["local"]
    assert found["Database"]["read_from"] == "demo over the local socket, as postgres"
    plain = render("report.md.j2", baseline_record(results(), context()))
    record = baseline_record(results(), context(datastores=found))
    assert render("report.md.j2", record) == plain
    jsonschema.validate(yaml.safe_load(render("baseline.yml.j2", record)), SCHEMA)


def test_each_datastore_is_linked_to_its_host_and_says_where_it_was_read():
    ds = host_record(recorded(), ds_context())
    record = baseline_record(results(), context(datastores=readings(settings(ds, db_read_on="controller"), STAMP)))
    report = render("report.md.j2", record)
    check_golden("datastores_on_their_own_host.md", report)
    lines = report.splitlines()
    redis = lines.index("### Redis Status: ✅ running and responding")
    assert lines[redis + 1] == "- **Read from:** app-1 over TLS at datastore.demo.test:6379, as baseline-monitor"
    assert lines[redis + 2].startswith(f"- **Datastore host:** [datastore-1](../datastore-1/{STAMP}.md): ✅ units read"
                                       " on datastore-1: redis-server active (running), 12.7 MiB, 0 journal error(s)")
    database = lines.index("### Database Status: ✅ running and responding")
    assert lines[database + 1] == ("- **Read from:** the controller (app-1 has no psql) over TCP at "
                                   "datastore.demo.test:5432 (sslmode verify-full), as baseline_monitor")
    assert "postgresql@15-main.service active (running)" in lines[database + 2]
    assert record["verdict"]["status"] == baseline_record(results(), context())["verdict"]["status"]
    jsonschema.validate(yaml.safe_load(render("baseline.yml.j2", record)), SCHEMA)


def test_an_unreachable_datastore_host_is_a_part_not_measured_and_the_report_renders():
    ds = host_record({"unreachable": True, "msg": UNREACHABLE}, ds_context())
    record = baseline_record(results(), context(datastores=readings(settings(ds), STAMP)))
    reason = f"datastore host datastore-1 unreachable: {UNREACHABLE}"
    assert record["problems"] == {"datastores": reason}  # once, for Redis and the database alike
    assert record["verdict"]["status"] == "failed"
    assert f"Datastore hosts: not measured: {reason}" in FILTERS["dbl_gate_reasons"](record, "critical")
    report = render("report.md.j2", record).splitlines()
    assert f"- **Datastore host:** [datastore-1](../datastore-1/{STAMP}.md): ❌ {reason}" in report
    assert f"- datastores: {reason}" in report
    assert record["status"]["Redis"]["status"] == "ok"  # Redis itself was read from the app host


@pytest.mark.parametrize(("known", "ds", "status", "text", "report"), [
    (True, None, "pending", "units not measured in this run: datastore-1 is not among the run's hosts (--limit, "
                            "or another job's slice); its latest report is linked", "../datastore-1/latest.md"),
    (False, None, "failed", "datastore-1 is not a datastore host of the inventory (no host of that name, or this "
                            "host itself): its units were not measured", None),
])
def test_a_datastore_host_left_out_of_the_run_or_the_inventory_says_so(known, ds, status, text, report):
    found = readings(settings(ds, known=known), STAMP)["Redis"]
    assert (found["status"], found["text"], found["report"]) == (status, text, report)
    assert found["problem"] == (None if known else text)


def test_the_readings_filter_names_itself_on_bad_input():
    with pytest.raises(AnsibleFilterError, match=r"^dbl_datastore_readings: expected the settings of Redis"):
        readings({"Redis": {"host": "x"}}, STAMP)
