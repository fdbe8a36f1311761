#!/usr/bin/python
"""Ansible module: the units of a datastore host and their journal errors since they started, in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: datastore_host_facts
short_description: Measure the units of a datastore host (Redis, PostgreSQL) and their journal errors in one module run
description:
  - Does in one run on a host of Redis or PostgreSQL what M(systemd_unit_facts) and
    M(journal_errors) do one run each, the state, memory, CPU and restarts of each unit of
    O(units) and the errors each logged to the journal since its current start.
  - Each unit comes with its members, the units that systemd lists in its C(ConsistsOf) (the units
    that are C(PartOf) it). Debian's C(postgresql) unit only starts the clusters, and the server of
    each runs as a member, C(postgresql@15-main.service), whose memory and journal are the
    server's.
  - Each part's result is shaped as the registered result of the module that reads it alone. A
    part that fails has C(failed=true) and the C(msg) that module would give, and the other part
    still runs.
  - Only reads. Needs what the separate modules need on the host (C(systemctl), C(journalctl)
    or libsystemd, coreutils' C(timeout)).
version_added: "1.2.0"
author: deploy-baseline
options:
  units:
    description:
      - Names of the units, for example V(redis-server) and V(postgresql). Exact names only.
    type: list
    elements: str
    required: true
  timeout:
    description: The O(systemd_unit_facts#module:timeout) of each C(systemctl show) the module runs.
    type: float
    default: 10
  journal_patterns:
    description: The O(journal_errors#module:patterns) of the units' journal.
    type: list
    elements: str
    default: [Traceback, ERROR, CRITICAL]
  journal_max_seconds:
    description:
      - The O(journal_errors#module:max_seconds) of each unit's journal; a reading it cuts gives
        lower bounds, and says so (RV(journal.journal_errors.exact=false)).
    type: float
    default: 30
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
seealso:
  - module: systemd_unit_facts
  - module: journal_errors
  - module: baseline_facts
"""

EXAMPLES = r"""
- name: Measure Redis and PostgreSQL on the datastore host
  datastore_host_facts:
    units: [redis-server, postgresql]
    journal_patterns: [ERROR, FATAL, PANIC]
  register: datastore

- name: Show the PostgreSQL cluster's memory
  ansible.builtin.debug:
    msg: >-
      {{ datastore.members.postgresql }}:
      {{ datastore.units.systemd_units[datastore.members.postgresql[0]].memory_bytes }} bytes
"""

RETURN = r"""
members:
  description:
    - The members of each unit of O(units) (its C(ConsistsOf)), sorted; empty when it has none.
    - Empty when they could not be read (RV(units.failed) then says why).
  returned: always
  type: dict
  sample: {"redis-server": [], "postgresql": ["postgresql@15-main.service"]}
  contains:
    <unit>:
      description: The members of one unit; the key is the unit's name as given in O(units).
      returned: for each unit in O(units)
      type: list
      elements: str
      sample: ["postgresql@15-main.service"]
units:
  description:
    - The units of O(units), each followed by its members, as M(systemd_unit_facts) registers them;
      or, when they could not be read, why.
  returned: always
  type: dict
  sample: {"systemd_units": {"redis-server": {"exists": true, "active_state": "active"}}}
  contains:
    systemd_units:
      description: The facts of each unit (see M(systemd_unit_facts)'s RETURN); absent when they could not be read.
      returned: success
      type: dict
      sample: {}
    failed: &failed
      description: True when this part could not be read; the other part was read all the same.
      returned: when it could not be read
      type: bool
      sample: true
    msg: &msg
      description:
        - Why, as M(systemd_unit_facts) or M(journal_errors) would say it; when the members could not
          be read, both parts say so.
      returned: when it could not be read
      type: str
      sample: "reading the units' members with systemctl show: no answer within 10 s"
    warnings: &warnings
      description: Its warnings, also given as the module's own.
      returned: when it warned
      type: list
      elements: str
      sample: []
journal:
  description:
    - The errors of the same units since each started, as M(journal_errors) registers them; or,
      when they could not be read, why.
  returned: always
  type: dict
  sample: {"journal_errors": {"error_count": 0, "lines_read": 9, "exact": true, "units": {}, "groups": [],
                              "other_groups": []}}
  contains:
    journal_errors:
      description: The errors found (see M(journal_errors)'s RETURN); absent when they could not be read.
      returned: success
      type: dict
      sample: {}
    failed: *failed
    msg: *msg
    warnings: *warnings
"""

from ansible.module_utils.baseline_journal import journal_argument_spec, read_journal_errors
from ansible.module_utils.baseline_parts import run_part
from ansible.module_utils.baseline_systemd import read_members, read_unit_facts, systemd_argument_spec
from ansible.module_utils.basic import AnsibleModule


def get_argument_spec() -> dict:
    """The module's options: those of the modules that read each part alone."""
    journal = journal_argument_spec()
    systemd = systemd_argument_spec()
    return dict(
        units=systemd["units"],
        journal_patterns=journal["patterns"],
        journal_max_seconds=journal["max_seconds"],
        timeout=systemd["timeout"],
    )


def with_members(members: dict[str, list[str]]) -> list[str]:
    """Each unit followed by its members, each name once. Pure."""
    names: list[str] = []
    for unit, parts in members.items():
        names += [name for name in (unit, *parts) if name not in names]
    return names


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), supports_check_mode=True)
    params = module.params
    systemd = systemd_argument_spec()
    found = run_part(module, read_members, "members", {"units": params["units"], "timeout": params["timeout"]},
                     systemd)
    if "members" not in found:
        module.exit_json(changed=False, members={}, units=found, journal=found)
    names = with_members(found["members"])
    module.exit_json(
        changed=False,
        members=found["members"],
        units=run_part(module, read_unit_facts, "systemd_units", {"units": names, "timeout": params["timeout"]},
                       systemd),
        journal=run_part(module, read_journal_errors, "journal_errors",
                         {"units": names, "patterns": params["journal_patterns"], "timeout": params["timeout"],
                          "max_seconds": params["journal_max_seconds"]},
                         journal_argument_spec()),
    )


if __name__ == "__main__":
    main()
