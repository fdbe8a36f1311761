#!/usr/bin/python
"""Ansible module: the errors systemd units logged to the journal, grouped."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: journal_errors
short_description: Count and group the errors systemd units logged to the journal
description:
  - Reads each unit's journal with C(journalctl -u UNIT -o json), by default since the unit's
    current start, i.e. since the deploy that started it.
  - A Python traceback that a program wrote one line per journal entry (as uvicorn does) is
    joined back into one message with the log line before it, its frames, its chained
    tracebacks and its exception line, so that it counts once.
  - A message is an error when its priority is one of O(priorities) or one of O(patterns) matches it.
  - Errors are grouped by a fingerprint of the message in which numbers, hex ids, UUIDs and paths
    are masked, so that the same error at another time, from another PID, counts in the same group.
  - Only reads; needs read access to the journal (root or the C(systemd-journal) group), Python 3.7
    or later and the C(timeout) command (coreutils) on the target.
  - Fails, saying so, when the user may read none of the system journal's files, as C(journalctl -u)
    then finds no entry and says nothing, which would read as a unit without errors.
version_added: "1.0.0"
author: deploy-baseline
options:
  units:
    description:
      - Names of the units whose journal is read, for example V(tsh_erp-green).
      - Exact names only; patterns such as V(tsh_erp-*) are refused.
    type: list
    elements: str
    required: true
  since:
    description:
      - Read the journal from this time on; any timestamp C(journalctl --since) understands,
        for example V(2025-11-05 15:41:00 UTC), V(-1h) or V(today).
      - When not set, from each unit's current start (its C(ActiveEnterTimestamp), to the
        microsecond). For a unit that is not running, the last O(max_lines) entries are read.
    type: str
  priorities:
    description:
      - Syslog priorities that make a message an error, from V(0) (emerg) to V(7) (debug).
      - The default is err and worse.
    type: list
    elements: int
    choices: [0, 1, 2, 3, 4, 5, 6, 7]
    default: [0, 1, 2, 3]
  patterns:
    description:
      - Python regular expressions that make a message an error when one matches it, whatever its
        priority. A program's standard error is logged at priority info, so its errors are only
        found this way.
      - An empty list finds errors by priority only.
    type: list
    elements: str
    default: [Traceback, ERROR, CRITICAL]
  max_lines:
    description:
      - The most journal entries read per unit. With a start time (the default), the oldest
        entries are kept and the newest left out; RV(journal_errors.truncated) tells.
    type: int
    default: 20000
  timeout:
    description:
      - Seconds that each command (C(systemctl show), C(journalctl)) may take before the module fails.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
notes:
  - A traceback is joined to the log line of the same PID just before it when journald received
    both in the same read (within 1 ms); the traceback's own lines must follow each other within
    a second.
  - An exception message of several lines keeps only its lines that are indented.
seealso:
  - module: systemd_unit_facts
"""

EXAMPLES = r"""
- name: Count the errors of the live colour since its start
  journal_errors:
    units: [tsh_erp-green]
  register: app_errors

- name: Count errors of both colours over the last hour, warnings included
  journal_errors:
    units: [tsh_erp-blue, tsh_erp-green]
    since: -1h
    priorities: [0, 1, 2, 3, 4]
    patterns: [Traceback, "ERROR:", "CRITICAL:"]
    max_lines: 5000
  register: recent_errors
"""

RETURN = r"""
journal_errors:
  description: The errors found in the journal of the units.
  returned: always
  type: dict
  sample:
    error_count: 1
    lines_read: 44
    truncated: false
    units:
      tsh_erp-green:
        since: "2026-11-29T18:01:32+00:00"
        lines_read: 44
        truncated: false
        error_count: 1
    groups:
      - unit: tsh_erp-green
        fingerprint: "ERROR: One or more mappers failed to initialize | sqlalchemy.exc.InvalidRequestError: ..."
        count: 1
        first_seen: "2026-11-29T18:01:33+00:00"
        last_seen: "2026-11-29T18:01:33+00:00"
        priority: 6
        sample: "ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n..."
  contains:
    error_count:
      description: How many errors were found, over all units (the sum of the groups' counts).
      returned: always
      type: int
      sample: 1
    lines_read:
      description: How many journal entries were read, over all units.
      returned: always
      type: int
      sample: 44
    truncated:
      description: Whether, for some unit, O(max_lines) entries were read and more were left out.
      returned: always
      type: bool
      sample: false
    units:
      description: What was read of each unit's journal, keyed by the unit name as given in O(units).
      returned: always
      type: dict
      sample:
        tsh_erp-green:
          since: "2026-11-29T18:01:32+00:00"
          lines_read: 44
          truncated: false
          error_count: 1
      contains:
        <unit>:
          description: What was read of one unit's journal; the key is the unit's name as given in O(units).
          returned: for each unit in O(units)
          type: dict
          sample:
            since: "2026-11-29T18:01:32+00:00"
            lines_read: 44
            truncated: false
            error_count: 1
          contains:
            since:
              description:
                - Start of the part of the journal read; the unit's current start as ISO 8601 UTC,
                  or O(since) as given.
                - Null when O(since) is not set and the unit is not running.
              returned: always
              type: str
              sample: "2026-11-29T18:01:32+00:00"
            lines_read:
              description: How many journal entries of the unit were read.
              returned: always
              type: int
              sample: 44
            truncated:
              description: Whether O(max_lines) entries were read and more were left out.
              returned: always
              type: bool
              sample: false
            error_count:
              description: How many errors the unit logged.
              returned: always
              type: int
              sample: 1
    groups:
      description: The errors grouped by unit and fingerprint, each unit's in order of first appearance.
      returned: always
      type: list
      elements: dict
      sample:
        - unit: tsh_erp-green
          fingerprint: "ERROR: One or more mappers failed to initialize | sqlalchemy.exc.InvalidRequestError: ..."
          count: 1
          first_seen: "2026-11-29T18:01:33+00:00"
          last_seen: "2026-11-29T18:01:33+00:00"
          priority: 6
          sample: "ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n..."
      contains:
        unit:
          description: The unit that logged the errors, as given in O(units).
          returned: always
          type: str
          sample: tsh_erp-green
        fingerprint:
          description:
            - The first line of the message, and for a traceback its last exception line, with
              numbers, hex ids, UUIDs and paths masked and blanks squeezed; at most 300 characters.
          returned: always
          type: str
          sample: "ERROR: One or more mappers failed to initialize | sqlalchemy.exc.InvalidRequestError: ..."
        count:
          description: How many times the error was logged.
          returned: always
          type: int
          sample: 3
        first_seen:
          description: When it was first logged, ISO 8601 UTC to the second.
          returned: always
          type: str
          sample: "2026-11-29T18:01:24+00:00"
        last_seen:
          description: When it was last logged, ISO 8601 UTC to the second.
          returned: always
          type: str
          sample: "2026-11-29T18:09:47+00:00"
        priority:
          description: The most severe syslog priority among its messages (0 emerg ... 7 debug); null if none had one.
          returned: always
          type: int
          sample: 6
        sample:
          description: The full message of its first occurrence, lines joined by newlines.
          returned: always
          type: str
          sample: "ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n..."
"""

from ansible.module_utils.baseline_journal import journal_argument_spec, read_journal_errors
from ansible.module_utils.basic import AnsibleModule


def get_argument_spec():
    """The module's options."""
    return journal_argument_spec()


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), supports_check_mode=True)
    module.exit_json(changed=False, journal_errors=read_journal_errors(module))


if __name__ == "__main__":
    main()
