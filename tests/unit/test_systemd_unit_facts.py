"""systemd_unit_facts: parsers on real captured output, main() on a fake target, RETURN."""

import json
from unittest import mock

import pytest
import systemd_unit_facts
from ansible.module_utils import baseline_systemd
from ansible.module_utils.baseline_systemd import (
    SHOW_PROPERTIES,
    Clocks,
    in_control_group,
    iso_utc,
    needs_proc_fallback,
    parse_cmdline,
    parse_counter,
    parse_proc_cgroup,
    parse_proc_stat,
    parse_proc_status,
    parse_show,
    read_process,
    read_processes,
    unit_facts,
)
from conftest import FIXTURES
from fake_target import FakeCommands, check_against_return, command_is, doc_of, fake_target, fixture_text
from module_runner import run_module

VARIANTS = ("default", "privileged")
UNITS = ["tsh_erp-green", "tsh_erp-blue", "nosuch-h1", "redis-server.service"]
CLK_TCK = 100  # of the demo target (getconf CLK_TCK)


def show_blocks(variant):
    return parse_show(fixture_text(f"systemd/show_{variant}.txt"))


def clocks(variant):
    realtime_us, monotonic_us = map(int, fixture_text(f"systemd/clocks_{variant}.txt").split())
    return Clocks(realtime_us=realtime_us, monotonic_us=monotonic_us)


def ps_rows(variant):
    """The independent reading: ps -e -o pid=,unit=,rss=,nlwp=,times=,comm= taken with the fixtures."""
    rows = {}
    for line in fixture_text(f"systemd/ps_{variant}.txt").splitlines():
        pid, unit, rss_kib, threads, cpu_s, comm = line.split()
        rows[int(pid)] = {"unit": unit, "rss_kib": int(rss_kib), "threads": int(threads),
                          "cpu_s": int(cpu_s), "comm": comm}
    return rows


def proc_dir(variant):
    return FIXTURES / "systemd" / f"proc_{variant}"


def captured_pids():
    return [(variant, int(path.name)) for variant in VARIANTS for path in sorted(proc_dir(variant).iterdir())]


# ---------------------------------------------------------------- systemctl show


@pytest.mark.parametrize(("variant", "index", "expected"), [
    ("default", 0, {"Id": "tsh_erp-green.service", "MainPID": "723", "NRestarts": "1", "MemoryCurrent": "[not set]",
                    "ActiveEnterTimestampMonotonic": "935284464"}),
    ("default", 1, {"Id": "tsh_erp-blue.service", "MainPID": "528", "SubState": "running"}),
    ("default", 2, {"Id": "nosuch-h1.service", "LoadState": "not-found", "MainPID": "0", "ControlGroup": ""}),
    ("default", 3, {"Id": "redis-server.service", "TasksCurrent": "[not set]", "ControlGroup": (
        "/libpod_parent/libpod-f00e5d315a864f6e157ece789631978f117fdfc1d6f3a12d04f5f154abd651bd"
        "/system.slice/redis-server.service")}),
    ("privileged", 0, {"Id": "tsh_erp-green.service", "MemoryCurrent": "41566208", "CPUUsageNSec": "[not set]",
                       "TasksCurrent": "1", "ControlGroup": "/system.slice/tsh_erp-green.service"}),
    ("privileged", 3, {"Id": "redis-server.service", "MemoryCurrent": "3649536", "TasksCurrent": "5"}),
])
def test_parse_show_splits_the_blocks_of_several_units(variant, index, expected):
    blocks = show_blocks(variant)
    assert len(blocks) == len(UNITS)
    assert set(blocks[index]) == set(SHOW_PROPERTIES)
    assert {key: blocks[index][key] for key in expected} == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("723", 723),
    ("0", 0),
    ("[not set]", None),
    ("", None),
    (None, None),
    ("18446744073709551615", None),  # UINT64_MAX: "not set" before systemd 236
    ("infinity", None),
])
def test_parse_counter(text, expected):
    assert parse_counter(text) == expected


# ---------------------------------------------------------------- /proc, checked against ps


@pytest.mark.parametrize(("variant", "pid"), captured_pids())
def test_proc_parsers_agree_with_ps(variant, pid):
    expected = ps_rows(variant)[pid]
    comm, cpu_ticks = parse_proc_stat((proc_dir(variant) / str(pid) / "stat").read_text())
    status = parse_proc_status((proc_dir(variant) / str(pid) / "status").read_text())
    assert comm.startswith(expected["comm"])  # ps cuts comm to 15 characters as the kernel does
    assert status["rss_bytes"] == expected["rss_kib"] * 1024
    assert status["threads"] == expected["threads"]
    assert cpu_ticks // CLK_TCK == expected["cpu_s"]  # ps's TIME counts whole seconds


@pytest.mark.parametrize(("text", "expected"), [
    ("554 (uvicorn) S 1 554 554 0 -1 4194560 11907 0 0 0 49 6 0 0 20 0 1 0 50824 70471680 14246", ("uvicorn", 55)),
    ("77 (tmux: server) S 1 77 77 0 -1 4194560 0 0 0 0 3 4 0 0 20 0 1 0 5 0 0", ("tmux: server", 7)),
    ("78 (a) b) R 1 78 78 0 -1 0 0 0 0 0 10 20 0 0 20 0 1 0 5 0 0", ("a) b", 30)),
])
def test_parse_proc_stat_takes_comm_up_to_the_last_parenthesis(text, expected):
    assert parse_proc_stat(text) == expected


def test_parse_proc_status_of_a_kernel_thread_has_no_rss():
    assert parse_proc_status("Name:\tkthreadd\nState:\tS (sleeping)\nThreads:\t1\n") == {"rss_bytes": 0, "threads": 1}


@pytest.mark.parametrize(("data", "expected"), [
    ((FIXTURES / "systemd/proc_default/723/cmdline").read_bytes(),
     "/usr/bin/python3 /usr/bin/uvicorn app:app --host 127.0.0.1 --port 8002 --no-access-log"),
    ((FIXTURES / "systemd/proc_default/498/cmdline").read_bytes(), "/usr/bin/redis-server 127.0.0.1:6379"),
    (b"", ""),
    (b"caf\xe9\0", "caf\ufffd"),
])
def test_parse_cmdline(data, expected):
    assert parse_cmdline(data) == expected


@pytest.mark.parametrize(("variant", "pid"), captured_pids())
def test_a_process_is_in_the_cgroup_of_the_unit_ps_names(variant, pid):
    cgroups = parse_proc_cgroup((proc_dir(variant) / str(pid) / "cgroup").read_text())
    ps_unit = ps_rows(variant)[pid]["unit"]
    for props in show_blocks(variant):
        if props["ControlGroup"]:
            assert in_control_group(cgroups, props["ControlGroup"]) == (props["Id"] == ps_unit), props["Id"]


def test_in_control_group_takes_sub_cgroups_not_siblings():
    assert in_control_group(("/system.slice/app.service/worker",), "/system.slice/app.service")
    assert not in_control_group(("/system.slice/app.service-old",), "/system.slice/app.service")


def test_read_processes_reads_every_captured_process():
    assert [p.pid for p in read_processes(str(proc_dir("default")))] == [1, 498, 528, 723]


def test_read_process_of_a_process_that_exited_is_none(tmp_path):
    assert read_process(str(tmp_path), 4242) is None


# ---------------------------------------------------------------- unit facts


def facts(variant, index):
    props = show_blocks(variant)[index]
    processes = read_processes(str(proc_dir(variant)))
    main_pid = parse_counter(props["MainPID"])
    main = next((p for p in processes if p.pid == main_pid), None)
    members = None
    if needs_proc_fallback(props):
        members = [p for p in processes if in_control_group(p.cgroups, props["ControlGroup"])]
    return unit_facts(props, main, members, clocks(variant), CLK_TCK)


GREEN_DEFAULT = {
    "id": "tsh_erp-green.service",
    "exists": True,
    "load_state": "loaded",
    "active_state": "active",
    "sub_state": "running",
    "main_pid": 723,
    "process": {"comm": "uvicorn",
                "cmdline": "/usr/bin/python3 /usr/bin/uvicorn app:app --host 127.0.0.1 --port 8002 --no-access-log"},
    # clocks: monotonic 980358603 us, ActiveEnterTimestampMonotonic 935284464 us: 45.07 s before
    # realtime 1795975764761908 us, that is 18:09:24.76 - 45.07 s = 18:08:39.69 (systemd: 18:08:39).
    "active_since": "2026-11-29T18:08:39+00:00",
    "uptime_s": 45.1,
    "restarts": 1,
    "memory_bytes": 57348 * 1024,  # ps: RSS 57348 KiB
    "cpu_s": 0.76,
    "cpu_avg_pct": 1.69,  # 0.76 s over 45.07 s
    "tasks": 1,
    "sources": {"memory": "proc", "cpu": "proc", "tasks": "proc"},
}

MISSING = {
    "id": "nosuch-h1.service",
    "exists": False,
    "load_state": "not-found",
    "active_state": "inactive",
    "sub_state": "dead",
    "main_pid": None,
    "process": None,
    "active_since": None,
    "uptime_s": None,
    "restarts": None,  # systemd says 0 of a unit it does not know
    "memory_bytes": None,
    "cpu_s": None,
    "cpu_avg_pct": None,
    "tasks": None,
    "sources": {"memory": None, "cpu": None, "tasks": None},
}


def test_unit_facts_from_proc_when_systemd_does_not_measure():
    assert facts("default", 0) == GREEN_DEFAULT


def test_unit_facts_sum_every_process_of_the_unit():
    redis = facts("default", 3)
    assert (redis["memory_bytes"], redis["tasks"]) == (12364 * 1024, 5)  # ps: one process, 5 threads


def test_unit_facts_from_systemd_where_it_measures():
    green = facts("privileged", 0)
    assert green["sources"] == {"memory": "systemd", "cpu": "proc", "tasks": "systemd"}
    assert (green["memory_bytes"], green["tasks"], green["cpu_s"]) == (41566208, 1, 1.38)
    assert (green["main_pid"], green["restarts"], green["active_since"]) == (566, 0, "2026-11-29T18:01:32+00:00")


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_missing_unit_is_a_result(variant):
    assert facts(variant, 2) == MISSING


def test_an_inactive_unit_has_no_uptime_even_with_an_old_start():
    props = dict(show_blocks("default")[1], ActiveState="failed", SubState="failed", MainPID="0", ControlGroup="")
    result = unit_facts(props, None, None, clocks("default"), CLK_TCK)
    assert (result["active_since"], result["uptime_s"], result["cpu_avg_pct"]) == (None, None, None)


def test_iso_utc_cuts_to_the_second():
    assert iso_utc(1795975764999999) == "2026-11-29T18:09:24+00:00"


# ---------------------------------------------------------------- main()


def run_main(args, variant="default", answer=None):
    show = answer or (0, fixture_text(f"systemd/show_{variant}.txt"), "")
    commands = FakeCommands((command_is("systemctl", "show"), show))
    with fake_target(commands), \
         mock.patch.object(baseline_systemd, "PROC", str(proc_dir(variant))), \
         mock.patch.object(baseline_systemd, "read_clocks", lambda: clocks(variant)), \
         mock.patch.object(baseline_systemd, "clock_ticks_per_second", lambda: CLK_TCK):
        outcome, result = run_module(systemd_unit_facts.main, args)
    return outcome, result, commands.calls


def test_main_reads_all_units_with_one_bounded_systemctl_call():
    outcome, result, calls = run_main({"units": UNITS})
    assert outcome == "exit"
    assert result["changed"] is False
    assert list(result["systemd_units"]) == UNITS
    assert result["systemd_units"]["tsh_erp-green"] == GREEN_DEFAULT
    assert result["systemd_units"]["nosuch-h1"] == MISSING
    assert calls == [["/usr/bin/timeout", "--kill-after=5", "10", "/usr/bin/systemctl", "show", "--no-pager",
                      "-p", ",".join(SHOW_PROPERTIES), "--", *UNITS]]


def test_main_in_check_mode_reads_the_same():
    _, result, _ = run_main({"units": UNITS, "_ansible_check_mode": True})
    assert result["systemd_units"]["tsh_erp-green"] == GREEN_DEFAULT


def test_main_passes_the_timeout_to_the_timeout_command():
    _, _, calls = run_main({"units": ["tsh_erp-green"], "timeout": 2.5},
                           answer=(0, fixture_text("systemd/show_default.txt").split("\n\n")[0], ""))
    assert calls[0][:3] == ["/usr/bin/timeout", "--kill-after=5", "2.5"]


@pytest.mark.parametrize(("args", "answer", "message"), [
    ({}, None, "missing required arguments: units"),
    ({"units": []}, None, "argument 'units' must name at least one unit"),
    ({"units": ["tsh_erp-*"]}, None,
     "argument 'units' must hold unit names, not patterns or empty names: 'tsh_erp-*'"),
    ({"units": ["tsh_erp-green"], "timeout": 0}, None,
     "argument 'timeout' must be a positive number of seconds, not 0"),
    ({"units": ["tsh_erp-green"], "timeout": "soon"}, None,
     "argument 'timeout' is of type str and we were unable to convert to float: "
     "<class 'str'> cannot be converted to a float"),
    ({"units": ["tsh_erp-green"], "bogus": 1}, None,
     "Unsupported parameters for (basic.py) module: bogus. Supported parameters include: timeout, units."),
    ({"units": ["tsh_erp-green"]}, (1, "", fixture_text("systemd/systemctl_show_no_systemd.stderr")),
     "reading unit properties with systemctl show: System has not been booted with systemd as init system "
     "(PID 1). Can't operate.; Failed to connect to bus: Host is down"),
    ({"units": ["tsh_erp-green"]}, (124, "", ""), "reading unit properties with systemctl show: no answer within 10 s"),
    ({"units": ["tsh_erp-green"]}, (0, fixture_text("systemd/show_default.txt"), ""),
     "reading unit properties with systemctl show: 4 blocks of properties for 1 units"),
])
def test_main_fails_with_a_message_that_names_the_action_and_the_cause(args, answer, message):
    outcome, result, _ = run_main(args, answer=answer)
    assert (outcome, result["msg"]) == ("fail", message)


# ---------------------------------------------------------------- RETURN


def test_return_documents_what_main_returns():
    _, result, _ = run_main({"units": UNITS})
    returned = doc_of(systemd_unit_facts, "RETURN")
    assert set(result) - {"changed"} == set(returned)
    checked = check_against_return(result["systemd_units"], returned["systemd_units"], "systemd_units")
    assert "systemd_units.<unit>.sources.memory" in checked


def test_return_documents_the_result_recorded_on_the_demo_target():
    recorded = json.loads(fixture_text("results/systemd_unit_facts.json"))
    returned = doc_of(systemd_unit_facts, "RETURN")
    assert set(recorded) - {"changed"} == set(returned)
    check_against_return(recorded["systemd_units"], returned["systemd_units"], "systemd_units")
