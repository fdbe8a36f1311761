"""Action plugin: the baseline_lock module's work, done on the controller in the task's own process.

The lock lives on the controller, so the action needs no connection and no module process: taking
and releasing it cost what a few system calls cost, instead of a Python start each. Documented in
library/baseline_lock.py.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
import uuid
from datetime import UTC, datetime

from ansible.plugins.action import ActionBase

POLL_S = 0.5
# A lock file just created is empty until its holder has written it: not stale for this long.
WRITE_GRACE_S = 5.0
ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    token=dict(type="str", no_log=False),
    wait_s=dict(type="float", default=600.0),
)


class LockError(Exception):
    """The lock could not be taken or released; .lock says what state it was left in, if known."""

    def __init__(self, msg: str, lock: dict | None = None):
        super().__init__(msg)
        self.lock = lock


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


def take(path: str, wait_s: float, pid: int) -> dict:
    """Take the lock for the run of process `pid`, creating its folder, waiting for another holder."""
    controller = socket.gethostname()
    holder = {"token": uuid.uuid4().hex, "pid": pid, "controller": controller,
              "since": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    folder = os.path.dirname(path) or "."
    try:
        os.makedirs(folder, mode=0o755, exist_ok=True)
    except OSError as exc:
        raise LockError(f"unable to take the lock {path}: {exc.strerror or exc}") from exc
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
            raise LockError(f"unable to take the lock {path}: {exc.strerror or exc}") from exc
        waited_for = {k: v for k, v in (other or {}).items() if k != "token"} or None
        waited_s = time.monotonic() - started
        if waited_s >= wait_s:
            raise LockError(
                f"another baseline run holds the lock {path} ({describe_holder(other)}); waited {waited_s:.0f} s. "
                f"If no run is going, remove {path}.",
                dict(path=path, state="not taken", token=None, waited_s=round(waited_s, 1),
                     waited_for=waited_for, stale=stale))
        time.sleep(min(POLL_S, max(wait_s - waited_s, 0.01)))
    return dict(path=path, state="taken", token=holder["token"], waited_s=round(time.monotonic() - started, 1),
                waited_for=waited_for, stale=stale)


def release(path: str, token: str | None) -> dict:
    """Remove the lock if `token` holds it; another run's lock is left in place."""
    result = dict(path=path, state="not held", token=None, waited_s=0.0, waited_for=None, stale=None)
    try:
        found = _read(path)
        if found is None or (parse_holder(found[0]) or {}).get("token") != token:
            return result
        if _remove_if(path, found[0]):
            result["state"] = "released"
    except OSError as exc:
        raise LockError(f"unable to release the lock {path}: {exc.strerror or exc}") from exc
    return result


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(ARGUMENT_SPEC, required_if=[("state", "absent", ("token",))])
        path, wait_s = args["path"], args["wait_s"]
        if wait_s < 0:
            return dict(result, failed=True, msg=f"argument 'wait_s' must be 0 or more seconds, not {wait_s:g}")
        if self._task.check_mode:
            return dict(result, changed=False, lock=dict(path=path, state="check mode", token=None, waited_s=0.0,
                                                         waited_for=None, stale=None))
        try:
            # The task runs in a process that ansible-playbook forked: its parent is the run.
            lock = take(path, wait_s, os.getppid()) if args["state"] == "present" else release(path, args["token"])
        except LockError as exc:
            return dict(result, failed=True, msg=str(exc), **({"lock": exc.lock} if exc.lock else {}))
        if lock["waited_for"]:
            result["warnings"] = [f"waited {lock['waited_s']} s for another baseline run "
                                  f"({describe_holder(lock['waited_for'])}) to release {path}"]
        return dict(result, changed=lock["state"] in ("taken", "released"), lock=lock)
