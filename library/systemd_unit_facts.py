#!/usr/bin/python
"""Ansible module: state, uptime, restarts and resource use of systemd units."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: systemd_unit_facts
short_description: Read the state, uptime, restarts and resource use of systemd units
description:
  - Reads the properties of every unit in O(units) with one C(systemctl show) call, and the
    command line of each unit's main process from C(/proc).
  - Memory, CPU time and tasks come from systemd's accounting (C(MemoryCurrent), C(CPUUsageNSec),
    C(TasksCurrent)) when systemd measures them. When it does not (it prints C([not set]), as in
    containers and on some cgroup v1 hosts), they are summed over the unit's processes found in
    C(/proc/*/cgroup) under the unit's C(ControlGroup), from C(/proc/PID/status) (VmRSS, threads)
    and C(/proc/PID/stat) (utime plus stime). RV(systemd_units.<unit>.sources) says which was used.
  - The uptime is measured on the monotonic clock (C(ActiveEnterTimestampMonotonic)), which no
    wall-clock step moves.
  - A unit that does not exist is reported with RV(systemd_units.<unit>.exists=false), not as a failure.
  - Only reads; needs Python 3.7 or later and the C(timeout) command (coreutils) on the target.
version_added: "1.0.0"
author: deploy-baseline
options:
  units:
    description:
      - Names of the units, for example V(tsh_erp-green) or V(redis-server.service). A name
        without a type suffix means a service, as for C(systemctl).
      - Exact names only; patterns such as V(tsh_erp-*) are refused.
    type: list
    elements: str
    required: true
  timeout:
    description:
      - Seconds that each command (C(systemctl show)) may take before the module fails.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
    details: The module only reads; it runs the same in check mode.
notes:
  - The processes' CPU time read from C(/proc) counts only processes that still run; that of
    processes of the unit that have exited is lost. systemd's C(CPUUsageNSec) counts it.
  - systemd's C(MemoryCurrent) is the cgroup's memory charge, which includes page cache; the sum of
    VmRSS read from C(/proc) does not, and counts memory shared between processes once per process.
seealso:
  - module: ansible.builtin.service_facts
  - module: journal_errors
"""

EXAMPLES = r"""
- name: Read the app units of both colours and Redis
  systemd_unit_facts:
    units:
      - tsh_erp-blue
      - tsh_erp-green
      - redis-server
  register: app_units

- name: Show the live colour's memory and average CPU
  ansible.builtin.debug:
    msg: >-
      {{ app_units.systemd_units['tsh_erp-green'].memory_bytes | human_readable }},
      {{ app_units.systemd_units['tsh_erp-green'].cpu_avg_pct }} % CPU on average
"""

RETURN = r"""
systemd_units:
  description: The facts of each unit, keyed by the unit name as given in O(units).
  returned: always
  type: dict
  sample:
    tsh_erp-green:
      id: tsh_erp-green.service
      exists: true
      load_state: loaded
      active_state: active
      sub_state: running
      main_pid: 554
      process:
        comm: uvicorn
        cmdline: /usr/bin/python3 /usr/bin/uvicorn app:app --host 127.0.0.1 --port 8002 --no-access-log
      active_since: "2026-11-29T18:01:32+00:00"
      uptime_s: 431.6
      restarts: 0
      memory_bytes: 58580992
      cpu_s: 0.55
      cpu_avg_pct: 0.13
      tasks: 1
      sources:
        memory: proc
        cpu: proc
        tasks: proc
  contains:
    <unit>:
      description: The facts of one unit; the key is the unit's name as given in O(units).
      returned: for each unit in O(units)
      type: dict
      sample:
        id: tsh_erp-green.service
        exists: true
        load_state: loaded
        active_state: active
        sub_state: running
        main_pid: 554
        process:
          comm: uvicorn
          cmdline: /usr/bin/python3 /usr/bin/uvicorn app:app --host 127.0.0.1 --port 8002 --no-access-log
        active_since: "2026-11-29T18:01:32+00:00"
        uptime_s: 431.6
        restarts: 0
        memory_bytes: 58580992
        cpu_s: 0.55
        cpu_avg_pct: 0.13
        tasks: 1
        sources:
          memory: proc
          cpu: proc
          tasks: proc
      contains:
        id:
          description: The unit's full name as systemd knows it (C(Id)).
          returned: always
          type: str
          sample: tsh_erp-green.service
        exists:
          description: Whether systemd knows the unit (its C(LoadState) is not V(not-found)).
          returned: always
          type: bool
          sample: true
        load_state:
          description: systemd's C(LoadState), for example V(loaded), V(not-found), V(masked).
          returned: always
          type: str
          sample: loaded
        active_state:
          description: systemd's C(ActiveState), for example V(active), V(inactive), V(failed).
          returned: always
          type: str
          sample: active
        sub_state:
          description: systemd's C(SubState), for example V(running), V(dead), V(auto-restart).
          returned: always
          type: str
          sample: running
        main_pid:
          description: PID of the unit's main process; null when it has none.
          returned: always
          type: int
          sample: 554
        process:
          description: The main process as C(/proc) shows it; null when there is no main process.
          returned: always
          type: dict
          sample:
            comm: uvicorn
            cmdline: /usr/bin/python3 /usr/bin/uvicorn app:app --host 127.0.0.1 --port 8002 --no-access-log
          contains:
            comm:
              description: The process's command name (C(/proc/PID/stat)), at most 15 characters.
              returned: always
              type: str
              sample: uvicorn
            cmdline:
              description: The process's arguments joined by spaces (C(/proc/PID/cmdline)).
              returned: always
              type: str
              sample: /usr/bin/python3 /usr/bin/uvicorn app:app --host 127.0.0.1 --port 8002 --no-access-log
        active_since:
          description:
            - When the unit's current run became active, ISO 8601 in UTC, to the second.
            - Null unless the unit is active, reloading or deactivating.
          returned: always
          type: str
          sample: "2026-11-29T18:01:32+00:00"
        uptime_s:
          description:
            - Seconds since RV(systemd_units.<unit>.active_since), on the monotonic clock.
            - Null when that is null.
          returned: always
          type: float
          sample: 431.6
        restarts:
          description:
            - How many times systemd restarted the service automatically (C(NRestarts)).
            - Null for units other than services, and for a unit that does not exist.
          returned: always
          type: int
          sample: 0
        memory_bytes:
          description:
            - Memory of the unit in bytes; null when the unit has no cgroup.
            - systemd's C(MemoryCurrent) when measured, else the sum of the VmRSS of its processes.
          returned: always
          type: int
          sample: 58580992
        cpu_s:
          description:
            - CPU time (user plus system) used by the unit, in seconds; null when the unit has no cgroup.
            - systemd's C(CPUUsageNSec) when measured, else the sum over its running processes.
          returned: always
          type: float
          sample: 0.55
        cpu_avg_pct:
          description:
            - RV(systemd_units.<unit>.cpu_s) over RV(systemd_units.<unit>.uptime_s), in percent of one CPU.
            - Null when either is null.
          returned: always
          type: float
          sample: 0.13
        tasks:
          description:
            - Tasks (threads) of the unit; null when the unit has no cgroup.
            - systemd's C(TasksCurrent) when measured, else the sum of the threads of its processes.
          returned: always
          type: int
          sample: 1
        sources:
          description: Where each figure came from.
          returned: always
          type: dict
          sample:
            memory: proc
            cpu: proc
            tasks: systemd
          contains:
            memory:
              description: V(systemd), V(proc), or null when RV(systemd_units.<unit>.memory_bytes) is null.
              returned: always
              type: str
              sample: proc
            cpu:
              description: V(systemd), V(proc), or null when RV(systemd_units.<unit>.cpu_s) is null.
              returned: always
              type: str
              sample: proc
            tasks:
              description: V(systemd), V(proc), or null when RV(systemd_units.<unit>.tasks) is null.
              returned: always
              type: str
              sample: systemd
"""

from ansible.module_utils.baseline_systemd import read_unit_facts, systemd_argument_spec
from ansible.module_utils.basic import AnsibleModule


def get_argument_spec():
    """The module's options."""
    return systemd_argument_spec()


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), supports_check_mode=True)
    module.exit_json(changed=False, systemd_units=read_unit_facts(module))


if __name__ == "__main__":
    main()
