"""baseline_facts: each part isolated from the others, the run_as decision, the part adapter."""

import json
from unittest import mock

import baseline_facts
import pytest
from ansible.module_utils import baseline_journal, baseline_parts
from ansible.module_utils.baseline_parts import Part, PartFailed, postgres_run_as, run_part
from fake_target import FakeCommands, command_is, fake_target, fixture_bytes, fixture_text
from module_runner import run_module

ARGS = {
    "service": "tsh_erp",
    "color_ports": {"blue": 8001, "green": 8002},
    "color": "green",
    "redis": {"host": "127.0.0.1", "port": 6379, "password": "s3cret", "client": "cli"},
    "postgres": {"db": "tsh_erp"},
}


def run_main(args, *answers, warnings=None):
    commands = FakeCommands(*answers)
    warned = warnings if warnings is not None else []
    with fake_target(commands), \
         mock.patch.object(baseline_facts.AnsibleModule, "warn", lambda self, text: warned.append(text)):
        outcome, result = run_module(baseline_facts.main, args)
    return outcome, result, commands.calls


def test_a_failing_part_fails_alone_with_the_message_of_its_module():
    outcome, result, _ = run_main(
        ARGS,
        (command_is("systemctl", "show"), (1, "", "Failed to connect to bus: No such file or directory")),
        (command_is("redis-cli"), (1, "", "Could not connect to Redis at 127.0.0.1:6379: Connection refused")),
        (command_is("psql"), (2, "", "psql: error: connection to server on socket failed: No such file")),
    )
    assert outcome == "exit"
    assert result["units"]["failed"] is True
    assert result["units"]["msg"] == ("reading unit properties with systemctl show: "
                                      "Failed to connect to bus: No such file or directory")
    assert result["journal"]["failed"] is True  # the journal part reads the units too
    assert result["redis"]["redis"]["reachable"] is False
    assert result["postgres"]["postgres"]["reachable"] is False
    assert result["http_local"] == {"skipped": True}
    assert (result["color"], result["local_port"]) == ("green", 8002)


def test_parts_not_asked_for_are_skipped():
    show = (command_is("systemctl", "show"), (0, fixture_text("systemd/show_default.txt"), ""))
    args = {"service": "tsh_erp", "color_ports": {"blue": 8001, "green": 8002},
            "color": "auto", "upstream_file": "/nonexistent/upstream.conf"}
    outcome, result, _ = run_main(args, show)
    assert outcome == "exit"
    assert result["color"] == ""
    assert {key: result[key] for key in ("journal", "redis", "postgres", "http_local")} == {
        "journal": {"skipped": True}, "redis": {"skipped": True},
        "postgres": {"skipped": True}, "http_local": {"skipped": True},
    }


def test_the_live_colour_is_read_from_the_upstream_file(tmp_path):
    upstream = tmp_path / "upstream.conf"
    upstream.write_text("upstream tsh_erp {\n    server 127.0.0.1:8001;\n}\n")
    args = {"service": "tsh_erp", "color_ports": {"blue": 8001, "green": 8002}, "upstream_file": str(upstream)}
    outcome, result, _ = run_main(args, (command_is("systemctl"), (1, "", "down")))
    assert (outcome, result["color"], result["local_port"]) == ("exit", "blue", 8001)


def test_a_missing_binary_fails_the_part_not_the_run():
    with mock.patch.object(baseline_facts.AnsibleModule, "get_bin_path", lambda self, name, **kw: None), \
         mock.patch.object(baseline_facts.AnsibleModule, "run_command", lambda *a, **kw: (0, "C\n", "")):
        outcome, result = run_module(baseline_facts.main, {**ARGS, "redis": None, "postgres": None})
    assert outcome == "exit"
    assert result["units"]["failed"] is True
    assert result["units"]["msg"].startswith("Failed to find required executable ")


def test_an_unexpected_error_in_a_part_is_that_part_s_failure():
    module = mock.Mock(check_mode=False, no_log_values=set())

    def broken(part):
        raise KeyError("oops")

    result = run_part(module, broken, "redis", {})
    assert result["failed"] is True
    assert result["msg"] == "reading redis: KeyError: 'oops'"


def test_warnings_stay_with_their_part_and_reach_the_module():
    module = mock.Mock(check_mode=False, no_log_values=set())

    def warns(part):
        part.warn("partial")
        return {"ok": True}

    assert run_part(module, warns, "redis", {}) == {"redis": {"ok": True}, "warnings": ["partial"]}
    module.warn.assert_called_once_with("partial")


def test_part_parameters_are_checked_against_the_module_spec():
    module = mock.Mock(check_mode=False, no_log_values=set())
    result = run_part(module, lambda part: part.params, "systemd_units", {"timeout": 5},
                      {"units": {"type": "list", "elements": "str", "required": True},
                       "timeout": {"type": "float", "default": 10}})
    assert result == {"failed": True, "msg": "missing required arguments: units"}


@pytest.mark.parametrize(("run_as", "user", "is_root", "how"), [
    ("", "root", True, "self"),
    ("", "deploy", False, "self"),
    ("deploy", "deploy", False, "self"),
    ("postgres", "root", True, "runuser"),
    ("postgres", "deploy", False, "deferred"),
])
def test_postgres_run_as(run_as, user, is_root, how):
    assert postgres_run_as(run_as, user, is_root) == how


def test_postgres_is_deferred_when_not_root_and_another_user():
    with mock.patch.object(baseline_facts.os, "geteuid", lambda: 1000), \
         mock.patch.object(baseline_facts, "current_user", lambda: "deploy"):
        assert baseline_facts.read_postgres(None, {"db": "tsh_erp", "run_as": "postgres"}) == {
            "deferred": True, "run_as": "postgres"}


def test_run_as_runs_the_command_through_runuser_in_tmp():
    module = mock.Mock(check_mode=False, no_log_values=set())
    module.get_bin_path.side_effect = lambda name, **kw: f"/usr/sbin/{name}"
    Part(module, {}, run_as="postgres").run_command(["/usr/bin/psql", "-c", "select 1"], data="x")
    module.run_command.assert_called_once_with(
        ["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/psql", "-c", "select 1"], data="x", cwd="/tmp")


def test_get_bin_path_required_raises_with_ansibles_message():
    module = mock.Mock()
    module.get_bin_path.return_value = None
    with pytest.raises(PartFailed) as failed:
        Part(module, {}).get_bin_path("no-such-binary-here", required=True)
    assert failed.value.result["msg"].startswith("Failed to find required executable \"no-such-binary-here\"")
    module.fail_json.assert_not_called()


def test_the_redis_password_is_a_no_log_value():
    module = mock.Mock(params={})
    spec = baseline_facts.get_argument_spec()
    assert spec["redis"]["options"]["password"]["no_log"] is True
    assert spec["postgres"]["options"]["login_password"]["no_log"] is True
    assert baseline_parts.Part(module, {}).no_log_values is module.no_log_values


def test_a_part_of_no_module_keeps_its_own_check_mode_warnings_and_secrets():
    # The http_probe action plugin's way, in the controller's process.
    part = Part(None, {"warm_samples": 3}, check_mode=True)
    part.warn("partial")
    part.no_log_values.add("s3cr3t")
    assert (part.params, part.check_mode, part.warnings, part.no_log_values) == (
        {"warm_samples": 3}, True, ["partial"], {"s3cr3t"})
    with pytest.raises(PartFailed) as failed:
        part.fail_json(msg="unable to probe: bad", kind="x")
    assert failed.value.result == {"msg": "unable to probe: bad", "kind": "x"}


# The record the bluegreen role wrote on the demo target after a switch (tests/fixtures/results/baseline_facts.json).
SWITCH = {k: v for k, v in json.loads(fixture_text("results/baseline_facts.json"))["switch"]["switch"].items()
          if k not in ("found", "path")}


def test_the_switch_record_is_read_in_the_same_run(tmp_path):
    record = tmp_path / "switch.json"
    record.write_text(json.dumps(SWITCH))
    outcome, result, _ = run_main({**ARGS, "redis": None, "postgres": None, "switch_file": str(record)},
                                  (command_is("systemctl"), (1, "", "down")))
    assert outcome == "exit"
    assert result["switch"] == {"switch": dict(SWITCH, found=True, path=str(record))}
    assert run_main({**ARGS, "redis": None, "postgres": None},
                    (command_is("systemctl"), (1, "", "down")))[1]["switch"] == {"skipped": True}


@pytest.mark.parametrize(("text", "cause"), [
    (None, "no such file"),
    ("{not json", "not JSON: "),
    ("[]", "not a JSON object"),
    (json.dumps(dict(SWITCH, kind="restart")), "kind must be one of switch, rollback, got 'restart'"),
    (json.dumps(dict(SWITCH, to="")), "to must name a colour, got ''"),
    (json.dumps(dict(SWITCH, switched_at="04:02")), "switched_at must be an ISO 8601 time with its zone, got '04:02'"),
    (json.dumps(dict(SWITCH, switched_at="2026-12-02T04:02:59")), "switched_at must be an ISO 8601 time with its zone"),
])
def test_a_switch_record_that_cannot_be_read_says_why(tmp_path, text, cause):
    path = tmp_path / "switch.json"
    if text is None:
        assert baseline_facts.read_switch(str(path)) == {"switch": {"found": False, "path": str(path)}}
        return
    path.write_text(text)
    result = baseline_facts.read_switch(str(path))
    assert result["failed"] is True
    assert result["msg"].startswith(f"unable to read the switch record {path}: {cause}")


def test_an_unreadable_switch_record_names_the_cause(tmp_path):
    result = baseline_facts.read_switch(str(tmp_path))  # a folder: open() fails as on a file without read rights
    assert result == {"failed": True,
                      "msg": f"unable to read the switch record {tmp_path}: [Errno 21] Is a directory: '{tmp_path}'"}


def test_the_journal_part_passes_its_time_limit_and_the_start_of_traffic():
    green = fixture_text("systemd/show_default.txt").split("\n\n")[0] + "\n"
    show = (command_is("systemctl", "show"), (0, green, ""))
    journal = (command_is("journalctl", "tsh_erp-green"), (0, fixture_bytes("journal/seed_small.export"), ""))
    args = {**ARGS, "redis": None, "postgres": None, "journal_max_seconds": 5, "journal_traffic_since_us": 0}
    with mock.patch.object(baseline_journal, "system_journal_files", lambda: []):
        outcome, result, calls = run_main(args, show, journal)
    found = result["journal"]["journal_errors"]
    assert outcome == "exit" and calls[-1][:3] == ["/usr/bin/journalctl", "--unit", "tsh_erp-green"]
    assert (found["max_seconds"], found["exact"]) == (5, True)
    assert found["error_events_since_traffic"] == found["error_count"] == 12


@pytest.mark.parametrize(("to", "switched_at", "since_traffic"), [
    ("green", "2026-12-02T04:09:00Z", 12),  # before the journal's entries: all of them since the traffic
    ("green", "2026-12-02T04:11:00Z", 0),  # after them: none
    ("blue", "2026-12-02T04:09:00Z", None),  # the switch pointed at the other colour: not counted
])
def test_the_journal_counts_the_errors_since_the_switch_to_the_live_colour(tmp_path, to, switched_at, since_traffic):
    # seed_small.export's entries were logged at 2026-12-02T04:10:03Z.
    record = tmp_path / "switch.json"
    record.write_text(json.dumps(dict(SWITCH, to=to, switched_at=switched_at)))
    green = fixture_text("systemd/show_default.txt").split("\n\n")[0] + "\n"
    show = (command_is("systemctl", "show"), (0, green, ""))
    journal = (command_is("journalctl", "tsh_erp-green"), (0, fixture_bytes("journal/seed_small.export"), ""))
    args = {**ARGS, "redis": None, "postgres": None, "switch_file": str(record)}
    with mock.patch.object(baseline_journal, "system_journal_files", lambda: []):
        outcome, result, _ = run_main(args, show, journal)
    found = result["journal"]["journal_errors"]
    assert outcome == "exit" and found["error_count"] == 12
    assert found["error_events_since_traffic"] == since_traffic


def test_the_reason_is_returned_when_the_upstream_file_names_no_single_colour(tmp_path):
    upstream = tmp_path / "upstream.conf"
    upstream.write_bytes(b"upstream tsh_erp {\r\n  server 127.0.0.1:8001;\r\n  server localhost:8002;\r\n}\r\n")
    args = {"service": "tsh_erp", "color_ports": {"blue": 8001, "green": 8002}, "upstream_file": str(upstream)}
    outcome, result, _ = run_main(args, (command_is("systemctl"), (1, "", "down")))
    assert (outcome, result["color"], result["local_port"]) == ("exit", "", 0)
    assert result["upstream"]["file"] == str(upstream)
    assert result["upstream"]["reason"] == "the upstream tsh_erp names 127.0.0.1:8001 and localhost:8002, both live"
    assert result["upstream"]["modified_at"].endswith("Z")
    assert result["journal"] == {"skipped": True}


def test_an_unreadable_upstream_file_is_the_reason():
    args = {"service": "tsh_erp", "color_ports": {"blue": 8001, "green": 8002}, "upstream_file": "/nonexistent/u.conf"}
    outcome, result, _ = run_main(args, (command_is("systemctl"), (1, "", "down")))
    assert outcome == "exit"
    assert result["upstream"]["reason"] == "unable to read /nonexistent/u.conf: No such file or directory"
    assert (result["upstream"]["modified_at"], result["upstream"]["changed_after_load"]) == (None, None)


def test_a_colour_on_a_unix_socket_is_read_and_not_probed_locally(tmp_path):
    upstream = tmp_path / "upstream.conf"
    upstream.write_text("upstream app_server { server unix:/run/tsh_erp-green.sock fail_timeout=0; }\n")
    args = {"service": "tsh_erp", "upstream_file": str(upstream),
            "color_ports": {"blue": "unix:/run/tsh_erp-blue.sock", "green": "unix:/run/tsh_erp-green.sock"},
            "probe": {"endpoints": [{"name": "Health", "path": "/health"}]}}
    outcome, result, _ = run_main(args, (command_is("systemctl"), (1, "", "down")))
    assert (outcome, result["color"], result["local_port"]) == ("exit", "green", 0)
    assert result["http_local"] == {"skipped": True}


def test_a_colour_that_is_no_port_nor_address_fails_the_run():
    outcome, result, _ = run_main({**ARGS, "color_ports": {"blue": 8001, "green": "8002/tcp"}})
    assert outcome == "fail"
    assert result["msg"] == ("argument 'color_ports' must map each colour to a port or an address"
                             " (HOST:PORT, unix:PATH): not a port or an address: '8002/tcp'")


def test_a_database_over_tcp_on_a_host_without_psql_is_left_to_the_controller():
    def no_psql(self, name, **kw):
        return None if name == "psql" else f"/usr/bin/{name}"

    tcp = {"db": "tsh_erp", "login_host": "datastore.demo.test", "login_password": "s3cret"}
    results = {}
    for name, postgres in (("tcp", tcp), ("socket", {"db": "tsh_erp"})):
        with mock.patch.object(baseline_facts.AnsibleModule, "get_bin_path", no_psql), \
             mock.patch.object(baseline_facts.AnsibleModule, "run_command", lambda *a, **kw: (1, "", "down")):
            outcome, results[name] = run_module(baseline_facts.main, {**ARGS, "redis": None, "postgres": postgres})
        assert outcome == "exit"
    assert results["tcp"]["postgres"] == {"deferred": True, "run_on": "controller"}
    # Over the local socket, only this host's psql can read it: the part fails, naming psql.
    assert results["socket"]["postgres"]["failed"] is True
    assert results["socket"]["postgres"]["msg"] == "Failed to find required executable 'psql'"
