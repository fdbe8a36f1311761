#!/usr/bin/env python3
"""Count with the system's own tools what the baseline report counts on a production-size target.

    system_counts.py UNIT KEY_PATTERN...

Reads `journalctl -u UNIT --since START -o json` (the messages and their times; START:
systemctl's ActiveEnterTimestamp, to the microsecond), `redis-cli --scan --pattern P` for each
pattern and `redis-cli DBSIZE`, and prints
one JSON object: lines, error events, error events by header (the line that names the error, its
numbers masked), keys per pattern, keys in all. An error event is a line matching ERROR or
CRITICAL or of priority err or worse (the header; a traceback's other lines never match), or a
traceback that the line of the same process just before it did not announce, being neither such
a line nor a chained traceback's "The above exception..." (how long before does not matter here). No code of the project is used: this is the independent
reading.
"""

import collections
import json
import re
import subprocess
import sys

ERROR = re.compile(r"ERROR|CRITICAL")
ERROR_PRIORITIES = ("0", "1", "2", "3")  # emerg to err, journal_errors' default priorities
TRACEBACK = "Traceback (most recent call last):"
# What Python prints before the next traceback of a chain (journald drops the blank lines around it).
CHAINED = ("The above exception was the direct cause of the following exception:",
           "During handling of the above exception, another exception occurred:")
READ_TOGETHER_US = 10_000  # journald's same read, or its next one


def header_key(line: str) -> str:
    return re.sub(r"[0-9]+", "<n>", " ".join(line.split()))


def count_errors(entries) -> dict:
    """Lines, error events and events by header of (realtime_us, pid, message, priority) entries,
    oldest first; and, for the record, `stored_apart`: the tracebacks journald stored more than 10 ms
    after the error line that announced them (a busy journald), and the longest such gap in ms."""
    lines, events, headers = 0, 0, collections.Counter()
    stored_apart, longest_us = 0, 0
    previous = {}  # by PID: (whether it was an error line, its message, its time)
    for realtime_us, pid, line, priority in entries:
        lines += 1
        is_error = bool(ERROR.search(line)) or priority in ERROR_PRIORITIES
        before_error, before, before_us = previous.get(pid, (False, "", 0))
        if line.startswith(TRACEBACK) and (before_error or before in CHAINED):
            if before_error and realtime_us - before_us > READ_TOGETHER_US:
                stored_apart += 1
                longest_us = max(longest_us, realtime_us - before_us)
        elif is_error or line.startswith(TRACEBACK):
            events += 1
            headers[header_key(line)] += 1
        previous[pid] = (is_error, line, realtime_us)
    return {"lines": lines, "error_events": events, "by_header": dict(headers),
            "stored_apart": stored_apart, "longest_apart_ms": round(longest_us / 1000, 1)}


def journal_counts(unit: str) -> dict:
    started = subprocess.run(["systemctl", "show", "--timestamp=us+utc", "-p", "ActiveEnterTimestamp", "--value",
                              unit], capture_output=True, text=True, check=True).stdout.strip()
    since = started.split(" ", 1)[1]  # without the weekday
    with subprocess.Popen(["journalctl", "-u", unit, "--since", since, "-o", "json",
                           "--output-fields", "MESSAGE,PRIORITY,_PID", "--no-pager"],
                          stdout=subprocess.PIPE, text=True, errors="replace") as journal:
        entries = ((int(entry["__REALTIME_TIMESTAMP"]), entry.get("_PID"), message_text(entry.get("MESSAGE")),
                    entry.get("PRIORITY")) for entry in map(json.loads, journal.stdout))
        return {"since": since, **count_errors(entries)}


def message_text(value) -> str:
    """MESSAGE as journalctl's JSON gives it: text, or a list of bytes when it is not UTF-8."""
    return bytes(value).decode("utf-8", "replace") if isinstance(value, list) else str(value or "")


def redis_counts(patterns: list[str]) -> dict:
    counts = {}
    for pattern in patterns:
        scan = subprocess.run(["redis-cli", "--scan", "--pattern", pattern], capture_output=True, text=True,
                              check=True)
        counts[pattern] = len(set(scan.stdout.split("\n")) - {""})
    dbsize = subprocess.run(["redis-cli", "DBSIZE"], capture_output=True, text=True, check=True).stdout
    return {"keys_by_pattern": counts, "keys": int(dbsize)}


if __name__ == "__main__":
    print(json.dumps({**journal_counts(sys.argv[1]), **redis_counts(sys.argv[2:])}))
