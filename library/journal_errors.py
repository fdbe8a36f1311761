#!/usr/bin/python
"""Ansible module: the errors systemd units logged to the journal, grouped."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: journal_errors
short_description: Count and group the errors systemd units logged to the journal
description:
  - Reads every entry of each unit's journal (the entries C(journalctl -u UNIT) shows), by default
    since the unit's current start, i.e. since the deploy that started it, in one pass, in bounded
    memory, so the counts are exact on a unit of millions of lines.
  - Reads the journal in its own process through libsystemd (C(libsystemd.so.0), by ctypes), which
    costs about what C(journalctl -o cat) does, as each entry's message is tested and only the
    entries that may be errors are read whole. With a O(since) given, or where libsystemd does not
    load, it reads the output of C(journalctl -u UNIT -o export) as a stream instead; both
    readings give the same counts and groups.
  - A time limit (O(max_seconds)) bounds the reading; when it cuts the reading, the result says so
    (RV(journal_errors.exact=false), how many lines were read, the share of the time since the start
    read) and every count is a lower bound.
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
        microsecond). For a unit that is not running, all its entries are read.
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
  max_seconds:
    description:
      - The longest the reading of one unit's journal may take, in seconds. When it is reached,
        C(journalctl) is stopped, what was read counts, and the unit's result says the reading was
        cut (RV(journal_errors.units.<unit>.exact=false)), and its counts are then lower bounds.
    type: float
    default: 30
  max_groups:
    description:
      - The most error groups kept per unit, the first to appear. The errors of later groups are
        counted together in RV(journal_errors.other_groups), never dropped.
    type: int
    default: 50
  max_samples:
    description:
      - The most samples (full messages, the first ones that differ) kept per group.
    type: int
    default: 3
  traffic_since_us:
    description:
      - A time, in microseconds since the epoch, from which errors are also counted apart
        (RV(journal_errors.error_events_since_traffic)), for example when traffic reached the unit.
      - Not set, they are not counted (null).
    type: int
  timeout:
    description:
      - Seconds that C(systemctl show) may take before the module fails.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
notes:
  - A traceback is joined to the line of the same PID just before it (a line that ends no other
    record) when journald stored both within 10 ms (the same read, or the next one), or within a
    second when that line announces a traceback, as a busy journald may store a logged exception's
    traceback tens of ms after its first line. A line announces a traceback when it is an error by
    O(priorities) or O(patterns) (a logged exception, uvicorn's C(Exception in ASGI application)) or
    is the line Python writes before one (C(Exception in thread NAME:), or C(Exception ignored in) and an object).
  - The journal does not keep where a program's write ended, so an error line followed within a
    second by a traceback of the same PID written apart from it (C(traceback.print_exc) after
    logging an error, or an uncaught exception) counts as one event.
  - The traceback's own lines must follow each other within a second. A record ends after 1,000 lines.
  - An exception message of several lines keeps only its lines that are indented.
  - How many lines there are since the start is not known without reading them all, so a cut
    reading gives the share of the time since the start that was read instead
    (RV(journal_errors.units.<unit>.covered_pct)).
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
    max_seconds: 10
  register: recent_errors

- name: Count the errors since traffic reached the live colour
  journal_errors:
    units: [tsh_erp-green]
    traffic_since_us: "{{ (traffic_started_at | to_datetime('%Y-%m-%dT%H:%M:%S%z')).timestamp() * 1000000 | int }}"
  register: errors_under_traffic
"""

RETURN = r"""
journal_errors:
  description: The errors found in the journal of the units.
  returned: always
  type: dict
  sample:
    error_count: 1
    error_events_since_traffic: null
    lines_read: 44
    exact: true
    max_seconds: 30
    units:
      tsh_erp-green:
        since: "2026-11-29T18:01:32+00:00"
        lines_read: 44
        exact: true
        covered_pct: 100.0
        read_until: null
        error_count: 1
        error_events_since_traffic: null
    groups:
      - unit: tsh_erp-green
        fingerprint: "ERROR: One or more mappers failed to initialize | sqlalchemy.exc.InvalidRequestError: ..."
        count: 1
        first_seen: "2026-11-29T18:01:33+00:00"
        last_seen: "2026-11-29T18:01:33+00:00"
        priority: 6
        sample: "ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n..."
        samples: ["ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n..."]
    other_groups: []
  contains:
    error_count:
      description:
        - How many errors were found, over all units (the groups' and the other groups' counts together).
        - A lower bound when RV(journal_errors.exact=false).
      returned: always
      type: int
      sample: 1
    error_events_since_traffic:
      description:
        - How many of them were first logged at or after O(traffic_since_us), over all units.
        - Null when O(traffic_since_us) is not set; a lower bound when RV(journal_errors.exact=false).
      returned: always
      type: int
      sample: null
    lines_read:
      description: How many journal entries were read, over all units.
      returned: always
      type: int
      sample: 44
    exact:
      description:
        - Whether every unit's journal was read to its end; false when O(max_seconds) cut some
          unit's reading, whose counts are then lower bounds.
      returned: always
      type: bool
      sample: true
    max_seconds:
      description: The time limit of each unit's reading, O(max_seconds).
      returned: always
      type: float
      sample: 30
    units:
      description: What was read of each unit's journal, keyed by the unit name as given in O(units).
      returned: always
      type: dict
      sample:
        tsh_erp-green:
          since: "2026-11-29T18:01:32+00:00"
          lines_read: 44
          exact: true
          covered_pct: 100.0
          read_until: null
          error_count: 1
          error_events_since_traffic: null
      contains:
        <unit>:
          description: What was read of one unit's journal; the key is the unit's name as given in O(units).
          returned: for each unit in O(units)
          type: dict
          sample:
            since: "2026-11-29T18:01:32+00:00"
            lines_read: 44
            exact: true
            covered_pct: 100.0
            read_until: null
            error_count: 1
            error_events_since_traffic: null
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
            exact:
              description: Whether the unit's journal was read to its end, within O(max_seconds).
              returned: always
              type: bool
              sample: true
            covered_pct:
              description:
                - The share of the time from the start (or, without one, from the first entry read)
                  to the end of the reading that was read, in percent; 100 when RV(journal_errors.units.<unit>.exact).
              returned: always
              type: float
              sample: 100.0
            read_until:
              description: When the last entry read was logged, ISO 8601 UTC, when the reading was cut; else null.
              returned: always
              type: str
              sample: null
            error_count:
              description:
                - How many errors the unit logged; a lower bound when not
                  RV(journal_errors.units.<unit>.exact).
              returned: always
              type: int
              sample: 1
            error_events_since_traffic:
              description: How many of them were first logged at or after O(traffic_since_us); null without it.
              returned: always
              type: int
              sample: null
    groups:
      description:
        - The errors grouped by unit and fingerprint, each unit's in order of first appearance;
          at most O(max_groups) per unit.
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
          samples: ["ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n..."]
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
          description: How many times the error was logged; a lower bound when the unit's reading was cut.
          returned: always
          type: int
          sample: 3
        first_seen:
          description: When it was first logged, ISO 8601 UTC to the second.
          returned: always
          type: str
          sample: "2026-11-29T18:01:24+00:00"
        last_seen:
          description: When it was last logged (of what was read), ISO 8601 UTC to the second.
          returned: always
          type: str
          sample: "2026-11-29T18:09:47+00:00"
        priority:
          description: The most severe syslog priority among its messages (0 emerg ... 7 debug); null if none had one.
          returned: always
          type: int
          sample: 6
        sample:
          description: The full message of its first occurrence, lines joined by newlines (at most 20,000 characters).
          returned: always
          type: str
          sample: "ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n..."
        samples:
          description:
            - The first O(max_samples) messages of the group that differ from each other; the first
              is RV(journal_errors.groups.sample).
          returned: always
          type: list
          elements: str
          sample: ["ERROR:    One or more mappers failed to initialize\nTraceback (most recent call last):\n..."]
    other_groups:
      description:
        - Per unit that logged errors of more than O(max_groups) groups, the errors of the groups
          beyond the bound, counted together.
      returned: always
      type: list
      elements: dict
      sample: [{"unit": "tsh_erp-green", "count": 12, "first_seen": "2026-11-29T18:02:10+00:00",
                "last_seen": "2026-11-29T18:09:47+00:00"}]
      contains:
        unit:
          description: The unit, as given in O(units).
          returned: always
          type: str
          sample: tsh_erp-green
        count:
          description: How many errors of other groups it logged; a lower bound when its reading was cut.
          returned: always
          type: int
          sample: 12
        first_seen:
          description: When the first of them was logged, ISO 8601 UTC to the second.
          returned: always
          type: str
          sample: "2026-11-29T18:02:10+00:00"
        last_seen:
          description: When the last of them was logged, ISO 8601 UTC to the second.
          returned: always
          type: str
          sample: "2026-11-29T18:09:47+00:00"
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
