#!/usr/bin/env python3
"""Count with the system's own tools what the baseline report counts on a production-size target.

    system_counts.py UNIT KEY_PATTERN...

Reads `journalctl -u UNIT --since START -o cat` (START: systemctl's ActiveEnterTimestamp, to the
microsecond), `redis-cli --scan --pattern P` for each pattern and `redis-cli DBSIZE`, and prints
one JSON object: lines, error events, error events by header (the line that names the error, its
numbers masked), keys per pattern, keys in all. An error event is a line matching ERROR or
CRITICAL (the header; a traceback's other lines never match), or a traceback that neither such a
line nor a chained traceback's "The above exception..." announced. No code of the project is
used: this is the independent reading.
"""

import collections
import json
import re
import subprocess
import sys

ERROR = re.compile(r"ERROR|CRITICAL")
TRACEBACK = "Traceback (most recent call last):"
# What Python prints before the next traceback of a chain (journald drops the blank lines around it).
CHAINED = ("The above exception was the direct cause of the following exception:",
           "During handling of the above exception, another exception occurred:")


def header_key(line: str) -> str:
    return re.sub(r"[0-9]+", "<n>", " ".join(line.split()))


def journal_counts(unit: str) -> dict:
    started = subprocess.run(["systemctl", "show", "--timestamp=us+utc", "-p", "ActiveEnterTimestamp", "--value",
                              unit], capture_output=True, text=True, check=True).stdout.strip()
    since = started.split(" ", 1)[1]  # without the weekday
    lines, events, headers, previous = 0, 0, collections.Counter(), ""
    with subprocess.Popen(["journalctl", "-u", unit, "--since", since, "-o", "cat", "--no-pager"],
                          stdout=subprocess.PIPE, text=True, errors="replace") as journal:
        for line in journal.stdout:
            line = line.rstrip("\n")
            lines += 1
            announced = ERROR.search(previous) or previous in CHAINED
            if ERROR.search(line) or (line.startswith(TRACEBACK) and not announced):
                events += 1
                headers[header_key(line)] += 1
            previous = line
    return {"since": since, "lines": lines, "error_events": events, "by_header": dict(headers)}


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
