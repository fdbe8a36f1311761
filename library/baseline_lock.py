#!/usr/bin/python
"""Ansible module: a lock file on the controller, so that two baseline runs of one host take turns.

Its documentation only: the action plugin action_plugins/baseline_lock.py does the work, on the
controller, in the task's own process.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: baseline_lock
short_description: Take or release a lock file, waiting while another run holds it
description:
  - Takes the lock O(path) by creating it (exclusively), or releases it by removing it. The file
    names its holder as JSON; C(ansible-playbook) process id, controller and time.
  - While another run holds the lock, waits up to O(wait_s) seconds for it, then fails naming the
    holder and the file.
  - A lock whose holder is a process of this controller that no longer runs (a run that was
    killed) is stale and taken over; a lock of another controller is only ever released by its holder.
  - The baseline role takes it around each host's measurement, so that two runs on one host do not
    measure at once and each writes its own report.
  - An action plugin; it works on the controller, in the task's own process, whatever the host;
    it opens no connection to the host.
version_added: "1.0.0"
author: deploy-baseline
options:
  path:
    description: The lock file on the controller; its folder is created when missing.
    type: path
    required: true
  state:
    description: V(present) takes the lock (waiting for it), V(absent) releases it.
    type: str
    choices: [present, absent]
    default: present
  token:
    description:
      - With O(state=absent), the RV(lock.token) returned when the lock was taken. A lock with
        another token (taken over, or another run's) is left in place.
    type: str
  wait_s:
    description: Seconds to wait while another run holds the lock; 0 fails at once.
    type: float
    default: 600
attributes:
  action:
    support: full
  check_mode:
    support: full
    details: In check mode nothing is taken or released.
notes:
  - Only runs that write to the same folder see each other's lock.
"""

EXAMPLES = r"""
- name: Wait until no other baseline run measures this host, then take its lock
  baseline_lock:
    path: "reports/{{ inventory_hostname }}/.baseline.lock"
    wait_s: 600
  register: host_lock

- name: Release it
  baseline_lock:
    path: "reports/{{ inventory_hostname }}/.baseline.lock"
    state: absent
    token: "{{ host_lock.lock.token }}"
"""

RETURN = r"""
lock:
  description: What happened to the lock.
  returned: always
  type: dict
  sample:
    path: reports/erp-prod-1/.baseline.lock
    state: taken
    token: 4f9c2d0e8a7b41d6b1f3a2c5d8e9f0a1
    waited_s: 12.5
    waited_for:
      pid: 48211
      controller: ci-runner-3
      since: "2026-11-29T18:15:02Z"
    stale: null
  contains:
    path:
      description: The lock file.
      returned: always
      type: str
      sample: reports/erp-prod-1/.baseline.lock
    state:
      description:
        - V(taken) or V(released); V(not held) when O(state=absent) found no lock or another
          run's; V(check mode) when nothing was done.
      returned: always
      type: str
      sample: taken
    token:
      description: With O(state=present), what releases the lock (pass it as O(token)); null otherwise.
      returned: always
      type: str
      sample: 4f9c2d0e8a7b41d6b1f3a2c5d8e9f0a1
    waited_s:
      description: Seconds waited for another run's lock.
      returned: always
      type: float
      sample: 12.5
    waited_for:
      description: The holder waited for (pid, controller, since), or null when the lock was free.
      returned: always
      type: dict
      sample: {pid: 48211, controller: ci-runner-3, since: "2026-11-29T18:15:02Z"}
    stale:
      description: The holder of a stale lock taken over (its process no longer ran), or null.
      returned: always
      type: dict
      sample: null
"""
