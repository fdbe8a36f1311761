"""Finding the errors of systemd units in `journalctl -o json` output.

Pure functions: parse the JSON lines, join the lines of one Python traceback back into one
record, and group the error records by a fingerprint that ignores what changes between
occurrences (numbers, hex ids, UUIDs, paths). Only the standard library is used. At the bottom,
read_journal_errors: the journal_errors module's reading, which runs journalctl on the target.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
from dataclasses import dataclass, field

from ansible.module_utils.baseline_systemd import (
    check_common_params,
    current_start_us,
    iso_utc,
    read_clocks,
    run_bounded,
    show_units,
    systemd_argument_spec,
    use_parsable_locale,
)

# Fields asked of journalctl (--output-fields); it adds __REALTIME_TIMESTAMP and the cursor itself.
JOURNAL_FIELDS = ("MESSAGE", "PRIORITY", "_PID", "SYSLOG_PID")

TRACEBACK_START = "Traceback (most recent call last):"
CHAINED_EXCEPTION_LINES = (
    "The above exception was the direct cause of the following exception:",
    "During handling of the above exception, another exception occurred:",
)

# A program writes a log record and its traceback with one write(); journald stores each line as
# an entry of the same PID, those it read in one buffer with the same timestamp, the next buffer
# milliseconds later. A traceback joins the line just before it (the record's message) only when
# that line came in the same read (the demo_errors fixture has an unrelated line 12 ms before a
# traceback); the traceback's own lines may come up to a second apart.
HEADER_WINDOW_US = 1_000
CONTINUATION_WINDOW_US = 1_000_000

FINGERPRINT_MAX_CHARS = 300

# The last microsecond of the year 9999, the latest time Python's datetime can show.
MAX_REALTIME_US = 253_402_300_799_999_999
_DIGITS = re.compile(r"[0-9]+")

_MASKS = (
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<uuid>"),
    # An absolute path, or a relative one of three parts or more (not "status=1/FAILURE").
    (re.compile(r"(?<![\w.~-])(?:/[\w.@%+~-]+(?:/[\w.@%+~-]+)*|[\w.~-]+(?:/[\w.@%+~-]+){2,})/?"), "<path>"),
    (re.compile(r"\b0[xX][0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{6,}\b"), "<hex>"),
    (re.compile(r"\d+"), "<n>"),
    (re.compile(r"\s+"), " "),
)


@dataclass(frozen=True)
class JournalEntry:
    """One journal entry: one line a process wrote, or one syslog / journal message."""

    realtime_us: int
    pid: int | None
    priority: int | None
    message: str


@dataclass
class Record:
    """One message as its program wrote it: an entry, or a log line and its traceback."""

    entries: list[JournalEntry] = field(default_factory=list)
    # "line": a single line so far; "frames": inside a traceback; "exception": after its last
    # line; "chained": after "The above exception was the direct cause...", before the next one.
    state: str = "line"

    @property
    def text(self) -> str:
        return "\n".join(entry.message for entry in self.entries)

    @property
    def priority(self) -> int | None:
        known = [entry.priority for entry in self.entries if entry.priority is not None]
        return min(known) if known else None


def decode_message(value) -> str:
    """MESSAGE as text: journalctl gives a list of byte values when it is not valid UTF-8, and
    null when it is too large to show (not with --all). Raises ValueError or TypeError for a
    list that is not of byte values."""
    if value is None:
        return ""
    if isinstance(value, list):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def _int_field(entry: dict, *keys: str) -> int | None:
    for key in keys:
        value = entry.get(key)
        # Only ASCII digits: str.isdigit() also accepts "²", which int() refuses.
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            return int(value)
    return None


def _realtime_us(value) -> int:
    """__REALTIME_TIMESTAMP (microseconds since the epoch, as a string of digits) as an int."""
    if not isinstance(value, str) or not _DIGITS.fullmatch(value) or int(value) > MAX_REALTIME_US:
        raise ValueError(f"__REALTIME_TIMESTAMP {str(value)[:40]!r} is not a time")
    return int(value)


def parse_journal_json(text: str) -> list[JournalEntry]:
    """The entries of `journalctl -o json` output (one JSON object per line).

    Raises ValueError naming the first line that is not a journal entry.
    """
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entries.append(JournalEntry(
                realtime_us=_realtime_us(raw["__REALTIME_TIMESTAMP"]),
                pid=_int_field(raw, "_PID", "SYSLOG_PID"),
                priority=_int_field(raw, "PRIORITY"),
                message=decode_message(raw.get("MESSAGE")),
            ))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"line {number} is not a journal entry: {exc}") from exc
        except RecursionError:  # json gives up on nesting deeper than Python's recursion limit
            raise ValueError(f"line {number} is not a journal entry: nested too deep") from None
    return entries


def _continues(record: Record, entry: JournalEntry) -> bool:
    """Whether `entry` is the next line of `record`; updates the record's state when it is."""
    gap_us = entry.realtime_us - record.entries[-1].realtime_us
    message = entry.message
    if record.state == "line":
        if message.startswith(TRACEBACK_START) and gap_us <= HEADER_WINDOW_US:
            record.state = "frames"
            return True
        return False
    if gap_us > CONTINUATION_WINDOW_US:
        return False
    if record.state == "frames":
        # Frames and source lines are indented; the first line that is not ends the traceback.
        if message[:1] not in (" ", "\t") and message.strip():
            record.state = "exception"
        return True
    if record.state == "exception":
        # A chained traceback follows, or an indented continuation of the exception's message.
        if message in CHAINED_EXCEPTION_LINES:
            record.state = "chained"
            return True
        return message[:1] in (" ", "\t") or not message.strip()
    # "chained": the next traceback of the chain.
    if message.startswith(TRACEBACK_START):
        record.state = "frames"
        return True
    return not message.strip()


def join_tracebacks(entries: list[JournalEntry]) -> list[Record]:
    """Group entries into records: a Python traceback written one line per entry comes back as
    one record with the log line before it, its frames, chained tracebacks and exception lines."""
    records: list[Record] = []
    open_records: dict[int | None, Record] = {}  # by PID: programs of one unit may interleave
    for entry in entries:
        record = open_records.get(entry.pid)
        if record is not None and _continues(record, entry):
            record.entries.append(entry)
            continue
        record = Record(entries=[entry], state="frames" if entry.message.startswith(TRACEBACK_START) else "line")
        records.append(record)
        open_records[entry.pid] = record
    return records


def summary(record: Record) -> str:
    """First line of a record, and for a traceback its last exception line: what identifies it."""
    lines = [entry.message for entry in record.entries]
    if record.state == "line":
        return lines[0]
    exception_lines = [
        line for line in lines[1:]
        if line.strip() and line[:1] not in (" ", "\t")
        and not line.startswith(TRACEBACK_START) and line not in CHAINED_EXCEPTION_LINES
    ]
    return " | ".join([lines[0], *exception_lines[-1:]])


def fingerprint(text: str) -> str:
    """`text` with numbers, hex ids, UUIDs and paths masked and blanks squeezed, cut to a bound."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text.strip()[:FINGERPRINT_MAX_CHARS]


def is_error(record: Record, priorities: list[int], patterns: list[re.Pattern]) -> bool:
    """A record is an error when its priority is one of `priorities` or a pattern matches it."""
    if record.priority is not None and record.priority in priorities:
        return True
    text = record.text
    return any(pattern.search(text) for pattern in patterns)


def group_errors(records: list[Record], unit: str, priorities: list[int],
                 patterns: list[re.Pattern]) -> list[dict]:
    """The error records of one unit grouped by fingerprint, in order of first appearance."""
    groups: dict[str, dict] = {}
    for record in records:
        if not is_error(record, priorities, patterns):
            continue
        key = fingerprint(summary(record))
        seen_us = record.entries[0].realtime_us
        group = groups.get(key)
        if group is None:
            groups[key] = {
                "unit": unit,
                "fingerprint": key,
                "count": 1,
                "first_seen": iso_utc(seen_us),
                "last_seen": iso_utc(seen_us),
                "priority": record.priority,
                "sample": record.text,
            }
            continue
        group["count"] += 1
        group["last_seen"] = iso_utc(seen_us)
        if record.priority is not None and (group["priority"] is None or record.priority < group["priority"]):
            group["priority"] = record.priority
    return list(groups.values())


def journalctl_since(start_us: int) -> str:
    """A wall-clock time in microseconds as a journalctl --since value, to the microsecond."""
    return f"@{start_us // 1_000_000}.{start_us % 1_000_000:06d}"


def keep_bound(entries: list[JournalEntry], max_lines: int, oldest_first: bool) -> tuple[list[JournalEntry], bool]:
    """Cut entries read with `-n max_lines+1` to max_lines; say whether some were left out.

    With --since, journalctl gives the oldest entries first, so the extra one is the newest;
    without it, the newest entries, so the extra one is the oldest.
    """
    if len(entries) <= max_lines:
        return entries, False
    return (entries[:max_lines] if oldest_first else entries[-max_lines:]), True


def journal_argument_spec() -> dict:
    """The options of the journal_errors module."""
    spec = systemd_argument_spec()
    spec.update(
        since=dict(type="str"),
        priorities=dict(type="list", elements="int", choices=list(range(8)), default=[0, 1, 2, 3]),
        patterns=dict(type="list", elements="str", default=["Traceback", "ERROR", "CRITICAL"]),
        max_lines=dict(type="int", default=20000),
    )
    return spec


def journalctl_argv(journalctl: str, unit: str, since: str | None, max_lines: int) -> list[str]:
    """The journalctl command that reads one unit's entries, one more than max_lines to see a cut."""
    argv = [journalctl, "--unit", unit, "--output", "json", "--all", "--no-pager",
            "--output-fields", ",".join(JOURNAL_FIELDS), "--lines", str(max_lines + 1)]
    return [*argv, "--since", since] if since else argv


# Where journald keeps the system journal: persistent, else volatile.
JOURNAL_DIRS = ("/var/log/journal", "/run/log/journal")


def system_journal_files(roots=JOURNAL_DIRS) -> list[str]:
    """The system journal's files (not the users' own ones), current and archived."""
    return sorted(path for root in roots for path in glob.glob(os.path.join(root, "*", "system*.journal")))


def unreadable_journal(files: list[str], readable) -> str | None:
    """The first system journal file when the user may read none of them; None when it may read
    one, or when there are none to tell from."""
    if files and not any(readable(path) for path in files):
        return files[0]
    return None


def compile_patterns(module) -> list[re.Pattern]:
    """The patterns option compiled, or fail naming the pattern that does not compile."""
    patterns = []
    for text in module.params["patterns"]:
        try:
            patterns.append(re.compile(text))
        except re.error as exc:
            module.fail_json(msg=f"compiling the pattern {text!r}: {exc}")
    return patterns


def read_journal_errors(module) -> dict:
    """The journal_errors module's result: the errors in the journal of module.params["units"]."""
    check_common_params(module)
    max_lines = module.params["max_lines"]
    if max_lines < 1:
        module.fail_json(msg=f"argument 'max_lines' must be a positive number of lines, not {max_lines}")
    patterns = compile_patterns(module)
    use_parsable_locale(module)
    units, timeout = module.params["units"], module.params["timeout"]
    journalctl = module.get_bin_path("journalctl", required=True)
    denied = unreadable_journal(system_journal_files(), lambda path: os.access(path, os.R_OK))
    if denied:
        user = pwd.getpwuid(os.geteuid()).pw_name
        module.fail_json(msg=f"reading the journal of {', '.join(units)}: user {user} may not read the system "
                             f"journal ({denied}); add it to the group systemd-journal")

    # Where each unit's part of the journal starts: the since option, or the unit's current start.
    start_of = dict.fromkeys(units)
    if module.params["since"] is None:
        clocks = read_clocks()
        for unit, props in show_units(module, units, timeout).items():
            start_of[unit] = current_start_us(props, clocks)

    per_unit, groups = {}, []
    for unit in units:
        start_us = start_of[unit]
        since = module.params["since"] if start_us is None else journalctl_since(start_us)
        action = f"reading the journal of {unit}"
        out, err = run_bounded(module, journalctl_argv(journalctl, unit, since, max_lines), timeout, action)
        if err.strip():
            module.warn(f"{action}: {err.strip().splitlines()[0]}")
        try:
            entries = parse_journal_json(out)
        except ValueError as exc:
            module.fail_json(msg=f"{action}: {exc}")
        entries, truncated = keep_bound(entries, max_lines, oldest_first=since is not None)
        unit_groups = group_errors(join_tracebacks(entries), unit, module.params["priorities"], patterns)
        groups.extend(unit_groups)
        per_unit[unit] = {
            "since": module.params["since"] if start_us is None else iso_utc(start_us),
            "lines_read": len(entries),
            "truncated": truncated,
            "error_count": sum(group["count"] for group in unit_groups),
        }

    return {
        "error_count": sum(group["count"] for group in groups),
        "lines_read": sum(unit["lines_read"] for unit in per_unit.values()),
        "truncated": any(unit["truncated"] for unit in per_unit.values()),
        "units": per_unit,
        "groups": groups,
    }
