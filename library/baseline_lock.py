#!/usr/bin/python
"""Ansible module: a lock file on the controller, so that two baseline runs of one host take turns."""

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
  - The baseline role runs it on the controller (C(delegate_to) localhost) around each host's
    measurement, so that two runs on one host do not measure at once and each writes its own report.
version_added: "1.0.0"
author: deploy-baseline
options:
  path:
    description: The lock file. Its folder must exist.
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
  delegate_to: localhost
  register: host_lock

- name: Release it
  baseline_lock:
    path: "reports/{{ inventory_hostname }}/.baseline.lock"
    state: absent
    token: "{{ host_lock.lock.token }}"
  delegate_to: localhost
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

import fcntl
import json
import os
import socket
import time
import uuid
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

POLL_S = 0.5
# A lock file just created is empty until its holder has written it: not stale for this long.
WRITE_GRACE_S = 5.0
PLAYBOOK_COMMAND = "ansible-playbook"


def get_argument_spec():
    """The module's options."""
    return dict(
        path=dict(type="path", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        token=dict(type="str", no_log=False),
        wait_s=dict(type="float", default=600.0),
    )


def parse_holder(text: str) -> dict | None:
    """The holder a lock file names; None while it is being written or when it is not ours. Pure."""
    try:
        holder = json.loads(text)
    except ValueError:
        return None
    return holder if isinstance(holder, dict) and "token" in holder else None


def describe_holder(holder: dict | None) -> str:
    """'pid 123 on ci-3 since 2026-11-29T18:15:02Z', as messages name a holder. Pure."""
    if not holder:
        return "a holder that has not written its name yet"
    return f"pid {holder.get('pid')} on {holder.get('controller')} since {holder.get('since')}"


def _command_line(proc_root: str, pid: int) -> list[str]:
    try:
        with open(os.path.join(proc_root, str(pid), "cmdline"), "rb") as cmdline:
            return [arg.decode("utf-8", "replace") for arg in cmdline.read().split(b"\0") if arg]
    except OSError:
        return []


def _parent(proc_root: str, pid: int) -> int | None:
    try:
        with open(os.path.join(proc_root, str(pid), "stat"), encoding="utf-8", errors="replace") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def playbook_pid(proc_root: str = "/proc", start: int | None = None) -> int | None:
    """The process id of the ansible-playbook run this module belongs to, from /proc; None if none.

    The module's ancestors are a shell, a worker that ansible-playbook forked for the task (with the
    same command line) and ansible-playbook itself: the topmost of the consecutive ancestors whose
    command line runs ansible-playbook.
    """
    pid, found = start or os.getppid(), None
    while pid and pid > 1:
        runs_playbook = any(os.path.basename(arg) == PLAYBOOK_COMMAND for arg in _command_line(proc_root, pid)[:3])
        if runs_playbook:
            found = pid
        elif found:
            break
        pid = _parent(proc_root, pid)
    return found


def is_stale(holder: dict | None, age_s: float, controller: str, alive) -> bool:
    """Whether a lock's holder is gone: a process of this controller that no longer runs. Pure."""
    if holder is None:
        return age_s > WRITE_GRACE_S
    return holder.get("controller") == controller and isinstance(holder.get("pid"), int) and not alive(holder["pid"])


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


def _read(path: str) -> tuple[str, float] | None:
    """The text of the lock file and its age in seconds; None when there is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as lock:
            text = lock.read()
        return text, time.time() - os.stat(path).st_mtime
    except FileNotFoundError:
        return None


def _create(path: str, holder: dict) -> bool:
    """Create the lock file naming its holder; False when it exists already."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as lock:
        lock.write(json.dumps(holder) + "\n")
    return True


def _remove_if(path: str, text: str) -> bool:
    """Remove the lock file if it still holds `text`; in the folder's flock, so that two runs
    taking over one stale lock cannot remove each other's new one."""
    folder = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        fcntl.flock(folder, fcntl.LOCK_EX)
        found = _read(path)
        if found is None or found[0] != text:
            return False
        os.unlink(path)
        return True
    finally:
        os.close(folder)  # closing releases the flock


def take(module, path: str, wait_s: float) -> dict:
    controller = socket.gethostname()
    holder = {"token": uuid.uuid4().hex, "pid": playbook_pid(), "controller": controller,
              "since": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    started = time.monotonic()
    waited_for = stale = None
    while True:
        try:
            if _create(path, holder):
                break
            found = _read(path)
            if found is None:
                continue  # released between the two calls
            text, age_s = found
            other = parse_holder(text)
            if is_stale(other, age_s, controller, process_alive):
                if _remove_if(path, text):
                    stale = {k: v for k, v in (other or {}).items() if k != "token"}
                continue
        except OSError as exc:
            module.fail_json(msg=f"unable to take the lock {path}: {exc.strerror or exc}")
        waited_for = {k: v for k, v in (other or {}).items() if k != "token"} or None
        waited_s = time.monotonic() - started
        if waited_s >= wait_s:
            module.fail_json(
                msg=f"another baseline run holds the lock {path} ({describe_holder(other)}); waited {waited_s:.0f} s. "
                    f"If no run is going, remove {path}.",
                lock=dict(path=path, state="not taken", token=None, waited_s=round(waited_s, 1),
                          waited_for=waited_for, stale=stale))
        time.sleep(min(POLL_S, max(wait_s - waited_s, 0.01)))
    return dict(path=path, state="taken", token=holder["token"], waited_s=round(time.monotonic() - started, 1),
                waited_for=waited_for, stale=stale)


def release(module, path: str, token: str | None) -> dict:
    result = dict(path=path, state="not held", token=None, waited_s=0.0, waited_for=None, stale=None)
    try:
        found = _read(path)
        if found is None or (parse_holder(found[0]) or {}).get("token") != token:
            return result
        if _remove_if(path, found[0]):
            result["state"] = "released"
    except OSError as exc:
        module.fail_json(msg=f"unable to release the lock {path}: {exc.strerror or exc}")
    return result


def main():
    module = AnsibleModule(argument_spec=get_argument_spec(), supports_check_mode=True,
                           required_if=[("state", "absent", ("token",))])
    path, wait_s = module.params["path"], module.params["wait_s"]
    if wait_s < 0:
        module.fail_json(msg=f"argument 'wait_s' must be 0 or more seconds, not {wait_s:g}")
    if module.check_mode:
        module.exit_json(changed=False, lock=dict(path=path, state="check mode", token=None, waited_s=0.0,
                                                  waited_for=None, stale=None))
    if module.params["state"] == "present":
        lock = take(module, path, wait_s)
    else:
        lock = release(module, path, module.params["token"])
    module.exit_json(changed=lock["state"] in ("taken", "released"), lock=lock)


if __name__ == "__main__":
    main()
