#!/usr/bin/env python3
"""Count with the system's own tools what the baseline report counts on a production-size target.

    system_counts.py UNIT KEY_PATTERN...

Reads `journalctl -u UNIT --since START -o json` (the messages and their times; START:
systemctl's ActiveEnterTimestamp, to the microsecond), `redis-cli --scan --pattern P` for each
pattern and `redis-cli DBSIZE`, and prints
one JSON object: lines, error events, error events by header (the line that names the error, its
numbers masked), keys per pattern, keys in all. An error event is a line matching ERROR or
CRITICAL (the header; a traceback's other lines never match), a line of priority err or worse,
or a traceback that neither such a line nor a chained traceback's "The above exception..."
announced. No code of the project is
used: this is the independent reading.
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
SPLIT_US = 10_000  # journal_errors joins a traceback to the line before it up to 10 ms after it
CHAINED = ("The above exception was the direct cause of the following exception:",
           "During handling of the above exception, another exception occurred:")


def header_key(line: str) -> str:
    return re.sub(r"[0-9]+", "<n>", " ".join(line.split()))


def count_errors(entries) -> dict:
    """Lines, error events and events by header of (realtime_us, message, priority) triples, oldest
    first; and
    `split`: logged exceptions whose traceback journald stored more than SPLIT_US after the line
    that announced it (when busy), which journal_errors counts as two errors, as its notes say."""
    lines, events, split, headers = 0, 0, 0, collections.Counter()
    previous, previous_us = "", 0
    for realtime_us, line, priority in entries:
        lines += 1
        announced = ERROR.search(previous) or previous in CHAINED
        if ERROR.search(line) or priority in ERROR_PRIORITIES or (line.startswith(TRACEBACK) and not announced):
            events += 1
            headers[header_key(line)] += 1
        elif line.startswith(TRACEBACK) and ERROR.search(previous) and realtime_us - previous_us > SPLIT_US:
            split += 1
        previous, previous_us = line, realtime_us
    return {"lines": lines, "error_events": events, "split": split, "by_header": dict(headers)}


def journal_counts(unit: str) -> dict:
    started = subprocess.run(["systemctl", "show", "--timestamp=us+utc", "-p", "ActiveEnterTimestamp", "--value",
                              unit], capture_output=True, text=True, check=True).stdout.strip()
    since = started.split(" ", 1)[1]  # without the weekday
    with subprocess.Popen(["journalctl", "-u", unit, "--since", since, "-o", "json",
                           "--output-fields", "MESSAGE,PRIORITY", "--no-pager"],
                          stdout=subprocess.PIPE, text=True, errors="replace") as journal:
        entries = ((int(entry["__REALTIME_TIMESTAMP"]), message_text(entry.get("MESSAGE")), entry.get("PRIORITY"))
                   for entry in map(json.loads, journal.stdout))
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
