"""journal_errors: joins and groups on real journal output, main() on a fake target, RETURN.

The *.json captures are journalctl -o json of the demo target's units (the format read before
-o export); json_entries reads their entries, export_of writes them as -o export gives them.
"""

import json
import os
import re
from unittest import mock

import journal_errors
import pytest
from ansible.module_utils import baseline_journal
from ansible.module_utils.baseline_journal import (
    JournalEntry,
    fingerprint,
    group_errors,
    is_error,
    join_tracebacks,
    journalctl_since,
    summary,
)
from ansible.module_utils.baseline_systemd import Clocks
from fake_target import FakeCommands, check_against_return, command_is, doc_of, fake_target, fixture_text
from module_runner import run_module

DEFAULT_PRIORITIES = [0, 1, 2, 3]
DEFAULT_PATTERNS = [re.compile(text) for text in ("Traceback", "ERROR", "CRITICAL")]
MAPPER_ERROR = (
    "ERROR: One or more mappers failed to initialize | sqlalchemy.exc.InvalidRequestError: When initializing "
    "mapper mapped class Notification->notifications, expression 'Tenant' failed to locate a name ('Tenant'). "
    "If this is a class name, consider adding this relationship() to the <class 'app.check_mappe"
)


def raw_lines(name):
    return [json.loads(line) for line in fixture_text(f"journal/{name}.json").splitlines()]


def message_of(value):
    return bytes(value).decode("utf-8", "replace") if isinstance(value, list) else value or ""


def json_entries(name):
    return [JournalEntry(int(raw["__REALTIME_TIMESTAMP"]), int(raw.get("_PID") or raw.get("SYSLOG_PID") or 0) or None,
                         int(raw["PRIORITY"]) if "PRIORITY" in raw else None, message_of(raw.get("MESSAGE")))
            for raw in raw_lines(name)]


def export_field(name, value):
    if b"\n" in value or not value.isascii():
        return name.encode() + b"\n" + len(value).to_bytes(8, "little") + value + b"\n"
    return name.encode() + b"=" + value + b"\n"


def export_of(name):
    """A JSON capture as journalctl -o export writes the same entries."""
    out = []
    for raw in raw_lines(name):
        fields = [(key, bytes(value) if isinstance(value, list) else str(value).encode())
                  for key, value in raw.items() if value is not None]
        out.append(b"".join(export_field(key, value) for key, value in fields) + b"\n")
    return b"".join(out)


def records(name):
    return sorted(join_tracebacks(json_entries(name)), key=lambda record: record.index)


def errors(name, priorities=DEFAULT_PRIORITIES, patterns=DEFAULT_PATTERNS):
    return group_errors(records(name), "unit", priorities, patterns)


def test_export_of_a_json_capture_reads_back_as_its_entries():
    import io

    from ansible.module_utils.baseline_journal import parse_export
    for name in ("demo_errors", "green_since_start", "green_all_starts", "oneshot_failed"):
        assert list(parse_export(io.BytesIO(export_of(name)))) == json_entries(name)


# ---------------------------------------------------------------- tracebacks


def test_the_mapper_traceback_is_one_record_with_its_log_line():
    joined = records("green_since_start")
    messages = [entry.message for entry in json_entries("green_since_start")]
    first, last = messages.index("ERROR:    One or more mappers failed to initialize"), next(
        i for i, m in enumerate(messages) if m.startswith("sqlalchemy.exc.InvalidRequestError"))
    assert [len(record.entries) for record in joined] == [1, last - first + 1, 1, 1, 1, 1]
    mapper = joined[1]
    assert mapper.text == "\n".join(messages[first:last + 1])
    assert mapper.text.count("Traceback (most recent call last):") == 2  # KeyError, then the chained error
    assert joined[2].text == "INFO:     Started server process [723]"


def test_a_traceback_does_not_take_an_unrelated_line_logged_before_it():
    texts = [record.text for record in records("demo_errors")]
    assert "WARNING: slow answer from 0x7f3a2c10 after 2.5 s" in texts
    bare = next(record for record in records("demo_errors") if record.entries[0].message.startswith("Traceback"))
    assert len(bare.entries) == 13  # lines written one by one, up to 1.2 ms apart
    assert bare.entries[-1].message.startswith("json.decoder.JSONDecodeError: Expecting property name")


def test_logged_exceptions_end_at_their_exception_line():
    logged = [record for record in records("demo_errors") if record.entries[0].message.startswith("ERROR:worker")]
    assert [record.entries[-1].message for record in logged] == ["KeyError: 'order-1041'", "KeyError: 'order-1042'"]


def test_lines_of_other_pids_do_not_break_a_traceback():
    def line(us, pid, message):
        return JournalEntry(realtime_us=us, pid=pid, priority=6, message=message)
    joined = sorted(join_tracebacks([
        line(0, 10, "ERROR: failed"), line(0, 10, "Traceback (most recent call last):"),
        line(100, 11, "INFO: other worker"),
        line(200, 10, '  File "x.py", line 1, in <module>'), line(300, 10, "ValueError: bad"),
    ]), key=lambda record: record.index)
    assert [record.text.count("\n") + 1 for record in joined] == [4, 1]


@pytest.mark.parametrize(("header", "gap_us", "count"), [
    # any line read with the traceback, or in journald's next read
    ("INFO: retrying", 500, 1), ("INFO: retrying", 10_000, 1), ("INFO: retrying", 12_000, 2),
    # an error line, or CPython's own header, up to a second before
    ("ERROR: failed", 12_000, 1), ("ERROR: failed", 1_000_000, 1), ("ERROR: failed", 1_000_001, 2),
    ("CRITICAL: out of memory", 44_415, 1), ("db lost", 500_000, 2),
    ("Exception in thread worker-3:", 50_000, 1), ("Exception ignored in: <function Pool.__del__ at 0x7f>", 50_000, 1),
    ("Exception in thread worker-3: done", 50_000, 2),
])
def test_a_line_heads_a_traceback_when_read_with_it_or_when_it_announces_one(header, gap_us, count):
    tally = baseline_journal.ErrorTally("unit", DEFAULT_PRIORITIES, DEFAULT_PATTERNS)
    joined = list(join_tracebacks([
        JournalEntry(realtime_us=0, pid=1, priority=6, message=header),
        JournalEntry(realtime_us=gap_us, pid=1, priority=6, message="Traceback (most recent call last):"),
    ], tally.announces))
    assert len(joined) == count


@pytest.mark.parametrize(("priority", "count"), [(3, 1), (6, 2)])
def test_a_line_of_an_error_priority_announces_a_traceback(priority, count):
    tally = baseline_journal.ErrorTally("unit", DEFAULT_PRIORITIES, DEFAULT_PATTERNS)
    joined = list(join_tracebacks([
        JournalEntry(realtime_us=0, pid=1, priority=priority, message="db lost"),
        JournalEntry(realtime_us=50_000, pid=1, priority=6, message="Traceback (most recent call last):"),
    ], tally.announces))
    assert len(joined) == count


def test_a_line_that_ends_a_record_heads_no_traceback():
    tally = baseline_journal.ErrorTally("unit", DEFAULT_PRIORITIES, DEFAULT_PATTERNS)
    lines = ["ERROR: failed", "Traceback (most recent call last):", '  File "x.py", line 1, in <module>',
             "ValueError: ERROR in the handler", "Traceback (most recent call last):", "KeyError: 'x'"]
    joined = sorted(join_tracebacks([JournalEntry(i, 1, 6, line) for i, line in enumerate(lines)], tally.announces),
                    key=lambda record: record.index)
    assert [len(record.entries) for record in joined] == [4, 2]


# ---------------------------------------------------------------- fingerprints and groups


@pytest.mark.parametrize(("text", "expected"), [
    ("INFO:     Started server process [723]", "INFO: Started server process [<n>]"),
    ("disk quota exceeded for /var/lib/app/tenants/7 (request 0b1c2d3e-4f5a-4b6c-8d9e-0f1a2b3c4d5e)",
     "disk quota exceeded for <path> (request <uuid>)"),
    ("WARNING: slow answer from 0x7f3a2c10 after 2.5 s", "WARNING: slow answer from <hex> after <n>.<n> s"),
    ("cursor 6f5376299a43468c87b98b4253843505 expired", "cursor <hex> expired"),
    ("File \"app/models/notification.py\", line 12", "File \"<path>\", line <n>"),
    ("accepted deadline", "accepted deadline"),
    ("x" * 400, "x" * 300),
])
def test_fingerprint_masks_what_changes_between_occurrences(text, expected):
    assert fingerprint(text) == expected


def test_summary_of_a_traceback_is_its_log_line_and_last_exception():
    mapper = records("green_since_start")[1]
    assert fingerprint(summary(mapper)) == MAPPER_ERROR


def test_the_mapper_error_counts_once_per_start():
    starts = sum(entry.message.startswith("Started tsh_erp-green.service")
                 for entry in json_entries("green_all_starts"))
    assert starts == 3
    assert errors("green_all_starts") == [{
        "unit": "unit",
        "fingerprint": MAPPER_ERROR,
        "count": starts,
        "first_seen": "2026-11-29T18:01:24+00:00",
        "last_seen": "2026-11-29T18:08:40+00:00",
        "priority": 6,
        "sample": records("green_all_starts")[1].text,
        # the same traceback each start: one distinct sample
        "samples": [records("green_all_starts")[1].text],
    }]


def test_errors_of_many_kinds_are_grouped():
    found = [(group["fingerprint"], group["count"], group["priority"]) for group in errors("demo_errors")]
    assert found == [
        ("ERROR: invalid byte \ufffd\ufffd in request from <n>.<n>.<n>.<n>", 1, 6),
        ("ERROR:worker:order <n> failed: lookup of cache key | KeyError: 'order-<n>'", 2, 6),
        ("disk quota exceeded for <path> (request <uuid>)", 1, 3),
        ("Traceback (most recent call last): | json.decoder.JSONDecodeError: Expecting property name enclosed in "
         "double quotes: line <n> column <n> (char <n>)", 1, 6),
    ]


@pytest.mark.parametrize(("priorities", "patterns", "expected"), [
    (DEFAULT_PRIORITIES, DEFAULT_PATTERNS, ["Failed to start h<n>-oneshot.service - <path>"]),
    ([0, 1, 2, 3, 4], [], ["h<n>-oneshot.service: Failed with result 'exit-code'.",
                           "Failed to start h<n>-oneshot.service - <path>"]),
    ([], [re.compile("Main process exited")], ["h<n>-oneshot.service: Main process exited, code=exited, "
                                               "status=<n>/FAILURE"]),
    ([], [], []),
])
def test_priorities_and_patterns_decide_what_is_an_error(priorities, patterns, expected):
    assert [group["fingerprint"] for group in errors("oneshot_failed", priorities, patterns)] == expected


def test_is_error_of_a_record_without_priority_looks_at_patterns_only():
    record = next(join_tracebacks([JournalEntry(realtime_us=0, pid=None, priority=None, message="CRITICAL: disk")]))
    assert is_error(record, [0, 1, 2, 3], DEFAULT_PATTERNS)
    assert not is_error(record, [0, 1, 2, 3], [])


def test_journalctl_since_keeps_the_microseconds():
    assert journalctl_since(1795975719687771) == "@1795975719.687771"
    assert journalctl_since(1795975719000001) == "@1795975719.000001"


# ---------------------------------------------------------------- main()

CLOCKS = Clocks(*map(int, fixture_text("systemd/clocks_default.txt").split()))
SINCE_GREEN = journalctl_since(CLOCKS.realtime_us - (CLOCKS.monotonic_us - 935284464))
SINCE_BLUE = journalctl_since(CLOCKS.realtime_us - (CLOCKS.monotonic_us - 505672687))
SINCE_REDIS = journalctl_since(CLOCKS.realtime_us - (CLOCKS.monotonic_us - 504004585))
FIELDS = "MESSAGE,PRIORITY,_PID,SYSLOG_PID"


def journalctl_call(unit, since=None):
    argv = ["/usr/bin/journalctl", "--unit", unit, "--output", "export", "--no-pager", "--output-fields", FIELDS]
    return [*argv, "--since", since] if since else argv


def run_main(args, *answers, warnings=None, journal_files=(), readable=True):
    show = (command_is("systemctl", "show"), (0, fixture_text("systemd/show_default.txt"), ""))
    commands = FakeCommands(*answers, show)
    warned = warnings if warnings is not None else []
    with fake_target(commands), mock.patch.object(baseline_journal, "read_clocks", lambda: CLOCKS), \
         mock.patch.object(journal_errors.AnsibleModule, "warn", lambda self, text: warned.append(text)), \
         mock.patch.object(baseline_journal, "system_journal_files", lambda: list(journal_files)), \
         mock.patch.object(baseline_journal.os, "access", lambda path, mode: readable):
        outcome, result = run_module(journal_errors.main, args)
    return outcome, result, commands.calls


def journal(unit, name):
    return command_is("journalctl", unit), (0, export_of(name), "")


UNITS = ["tsh_erp-green", "tsh_erp-blue", "nosuch-h1", "redis-server.service"]
ANSWERS = [journal("tsh_erp-green", "green_since_start"), journal("nosuch-h1", "oneshot_failed"),
           (command_is("journalctl"), (0, "", ""))]


def test_main_reads_each_unit_since_its_current_start():
    outcome, result, calls = run_main({"units": UNITS}, *ANSWERS)
    assert outcome == "exit"
    assert calls[1:] == [journalctl_call("tsh_erp-green", SINCE_GREEN), journalctl_call("tsh_erp-blue", SINCE_BLUE),
                         journalctl_call("nosuch-h1"), journalctl_call("redis-server.service", SINCE_REDIS)]
    # the start the capture computed on the target, from other readings of the same clocks
    captured = float(fixture_text("journal/green_since_start.since").strip("@\n"))
    assert abs(float(SINCE_GREEN[1:]) - captured) < 0.001
    found = result["journal_errors"]
    assert found["units"]["tsh_erp-green"] == {
        "since": "2026-11-29T18:08:39+00:00", "lines_read": 49, "exact": True, "covered_pct": 100.0,
        "read_until": None, "error_count": 1, "error_events_since_traffic": None}
    assert found["units"]["nosuch-h1"]["since"] is None  # never started: all its entries, no --since
    assert (found["error_count"], found["lines_read"], found["exact"]) == (2, 53, True)
    assert (found["error_events_since_traffic"], found["other_groups"], found["max_seconds"]) == (None, [], 30)
    assert [(group["unit"], group["fingerprint"], group["count"]) for group in found["groups"]] == [
        ("tsh_erp-green", MAPPER_ERROR, 1),
        ("nosuch-h1", "Failed to start h<n>-oneshot.service - <path>", 1),
    ]


def test_main_reads_from_the_since_given_without_asking_systemd():
    _, result, calls = run_main({"units": ["tsh_erp-green"], "since": "2000-01-01"},
                                journal("tsh_erp-green", "green_all_starts"))
    assert calls == [journalctl_call("tsh_erp-green", "2000-01-01")]
    assert result["journal_errors"]["units"]["tsh_erp-green"] == {
        "since": "2000-01-01", "lines_read": 158, "exact": True, "covered_pct": 100.0, "read_until": None,
        "error_count": 3, "error_events_since_traffic": None}


def test_main_counts_the_errors_since_traffic_and_bounds_the_groups():
    second_start = [entry.realtime_us for entry in json_entries("green_all_starts")
                    if entry.message.startswith("Started tsh_erp-green.service")][1]
    _, result, _ = run_main({"units": ["tsh_erp-green"], "since": "2000-01-01", "traffic_since_us": second_start,
                             "max_groups": 1, "max_samples": 1}, journal("tsh_erp-green", "green_all_starts"))
    found = result["journal_errors"]
    assert (found["error_count"], found["error_events_since_traffic"]) == (3, 2)
    assert found["units"]["tsh_erp-green"]["error_events_since_traffic"] == 2
    assert [len(group["samples"]) for group in found["groups"]] == [1]


def test_main_in_check_mode_reads_the_same():
    _, result, _ = run_main({"units": UNITS, "_ansible_check_mode": True}, *ANSWERS)
    assert result["changed"] is False
    assert result["journal_errors"]["error_count"] == 2


def test_main_warns_of_what_journalctl_says_on_success():
    hint = "Hint: You are currently not seeing messages from other users and the system."
    warnings = []
    outcome, _, _ = run_main({"units": ["tsh_erp-green"], "since": "today"},
                             (command_is("journalctl"), (0, "", hint + "\n")), warnings=warnings)
    assert outcome == "exit"
    assert warnings == [f"reading the journal of tsh_erp-green: {hint}"]


@pytest.mark.parametrize(("args", "answer", "message"), [
    ({"units": ["tsh_erp-green"], "priorities": [3, 9]}, None,
     "value of priorities must be one or more of: 0, 1, 2, 3, 4, 5, 6, 7. Got no match for: 9"),
    ({"units": ["tsh_erp-green"], "patterns": ["("]}, None,
     "compiling the pattern '(': missing ), unterminated subpattern at position 0"),
    ({"units": ["tsh_erp-green"], "max_seconds": 0}, None,
     "argument 'max_seconds' must be a positive number of seconds, not 0"),
    ({"units": ["tsh_erp-green"], "max_groups": 0}, None,
     "argument 'max_groups' must be a positive number of groups, not 0"),
    ({"units": ["tsh_erp-green"], "max_samples": "many"}, None,
     "argument 'max_samples' is of type str and we were unable to convert to int: "
     "\"'many'\" cannot be converted to an int"),
    ({"units": ["tsh_erp-green"], "traffic_since_us": -1}, None,
     "argument 'traffic_since_us' must be a time in microseconds since the epoch, not -1"),
    ({"units": []}, None, "argument 'units' must name at least one unit"),
    ({"units": ["tsh_erp-green"], "since": "garbage"},
     (1, "", fixture_text("journal/journalctl_bad_since.stderr")),
     "reading the journal of tsh_erp-green: Failed to parse timestamp: garbage"),
    ({"units": ["tsh_erp-green"], "since": "today"},
     (1, "", fixture_text("journal/journalctl_no_permission.stderr")),
     "reading the journal of tsh_erp-green: No journal files were opened due to insufficient permissions."),
    ({"units": ["tsh_erp-green"], "since": "today"}, (0, "-- No entries --\n", ""),
     "reading the journal of tsh_erp-green: journalctl's output ends inside entry 1"),
    ({"units": ["tsh_erp-green"], "since": "today"}, (0, "MESSAGE=x\n\n", ""),
     "reading the journal of tsh_erp-green: entry 1 is not a journal entry: __REALTIME_TIMESTAMP None is not a time"),
])
def test_main_fails_with_a_message_that_names_the_action_and_the_cause(args, answer, message):
    answers = [(command_is("journalctl"), answer)] if answer else []
    outcome, result, _ = run_main(args, *answers)
    assert (outcome, result["msg"]) == ("fail", message)


def test_main_fails_when_the_user_may_not_read_the_system_journal():
    # journalctl -u then finds no entry and says nothing (captured as a user outside the
    # systemd-journal group, whose own user journal it can open): no errors would be a lie.
    system = "/var/log/journal/3caf15e6dbe73a8c594ebb1653eb71e1/system.journal"
    outcome, result, calls = run_main({"units": ["tsh_erp-green"]}, journal_files=[system], readable=False)
    user = baseline_journal.pwd.getpwuid(os.geteuid()).pw_name
    assert (outcome, result["msg"]) == ("fail", f"reading the journal of tsh_erp-green: user {user} may not read "
                                                f"the system journal ({system}); add it to the group systemd-journal")
    assert calls == []


@pytest.mark.parametrize(("files", "readable", "denied"), [
    ([], set(), None),
    (["/run/log/journal/m/system.journal"], set(), "/run/log/journal/m/system.journal"),
    (["/var/log/journal/m/system.journal", "/var/log/journal/m/system@a.journal"],
     {"/var/log/journal/m/system@a.journal"}, None),
])
def test_unreadable_journal(files, readable, denied):
    assert baseline_journal.unreadable_journal(files, readable.__contains__) == denied


def test_system_journal_files_leave_the_users_own_out(tmp_path):
    machine = tmp_path / "var" / "3caf"
    machine.mkdir(parents=True)
    for name in ("system.journal", "system@00a-01.journal", "user-1000.journal"):
        (machine / name).touch()
    found = baseline_journal.system_journal_files([str(tmp_path / "var"), str(tmp_path / "run")])
    assert [os.path.basename(path) for path in found] == ["system.journal", "system@00a-01.journal"]


# ---------------------------------------------------------------- RETURN

def test_return_documents_what_main_returns():
    _, result, _ = run_main({"units": UNITS}, *ANSWERS)
    returned = doc_of(journal_errors, "RETURN")
    assert set(result) - {"changed"} == set(returned)
    checked = check_against_return(result["journal_errors"], returned["journal_errors"], "journal_errors")
    assert {"journal_errors.units.<unit>.since", "journal_errors.groups.sample"} <= set(checked)


def test_return_documents_the_result_recorded_on_the_demo_target():
    recorded = json.loads(fixture_text("results/journal_errors.json"))
    returned = doc_of(journal_errors, "RETURN")
    assert set(recorded) - {"changed"} == set(returned)
    check_against_return(recorded["journal_errors"], returned["journal_errors"], "journal_errors")
