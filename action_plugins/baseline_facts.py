"""Action plugin of the baseline_facts module: the host measured by the module, the public URL probed here.

The module runs on the host as any module does (one SSH round trip). With public_probe, the same
task then probes the public URL from the controller, in this process, so that a host's whole
baseline costs one worker of the controller, not one for the host and one for its public probe.
A host that cannot be reached is unreachable as with any module, before anything is probed (the
baseline role probes its public URL in a task of its own: roles/baseline_where_needed).
Hosts of one service share their public URL: the hosts of the task that give the same public_probe
share one probe, done by the first of them while the others wait for its result, through files in
Ansible's temporary folder of this run on the controller (every worker is a fork of the playbook's
process and sees that one folder; Ansible removes it at the end of the run). Documented in
library/baseline_facts.py.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import runpy
from collections.abc import Callable
from pathlib import Path

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

# The project's module_utils, importable here as in the modules Ansible sends to a host.
runpy.run_path(str(Path(__file__).resolve().parents[1] / "module_utils" / "on_controller.py"))

from ansible.module_utils.baseline_parts import run_part
from ansible.module_utils.baseline_probe import probe_argument_spec, probe_endpoints


def probe_key(task_uuid: str, check_mode: bool, options: dict) -> str:
    """What makes two hosts' public probes one: the same task, check mode and options. Pure."""
    text = json.dumps({"task": task_uuid, "check_mode": check_mode, "options": options}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def shared(folder: Path, key: str, compute: Callable[[], dict]) -> dict:
    """compute()'s result for key, computed once among the processes that share folder: the first
    to take key's lock computes it and keeps it there; the others wait for the lock, then read it."""
    kept = folder / f"baseline-public-{key}.json"
    with open(folder / f"baseline-public-{key}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, also on an exception
        if not kept.exists():
            kept.write_text(json.dumps(compute()))
        return json.loads(kept.read_text())  # the same types for every host


class ActionModule(ActionBase):
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        module_args = dict(self._task.args)
        public = module_args.pop("public_probe", None)  # never sent to the host
        measured = self._execute_module(module_args=module_args, task_vars=task_vars)
        self._remove_tmp_path(self._connection._shell.tmpdir)
        if public is not None:
            check_mode = bool(self._task.check_mode)
            measured["http_public"] = shared(
                Path(C.DEFAULT_LOCAL_TMP), probe_key(self._task._uuid, check_mode, public),
                # As a module's exit_json does: no secret (no_log option, Authorization header) in the result.
                lambda: run_part(None, probe_endpoints, "http_probe", public, probe_argument_spec(),
                                 check_mode=check_mode))
        return merge_hash(result, measured)
