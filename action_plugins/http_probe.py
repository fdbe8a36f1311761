"""Action plugin of the http_probe module: on the controller, the probe runs in the task's own process.

A task of a local connection (delegate_to: localhost, the baseline role's public probe of a host
that could not be reached) runs the module's code here, without starting a Python process for it:
the same code, options and result.
Any other task (a probe from a host, or one with become or environment) runs the module as usual.
"""

from __future__ import annotations

import runpy
from pathlib import Path

from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

# The project's module_utils, importable here as in the modules Ansible sends to a host.
runpy.run_path(str(Path(__file__).resolve().parents[1] / "module_utils" / "on_controller.py"))

from ansible.module_utils.baseline_parts import run_part
from ansible.module_utils.baseline_probe import probe_argument_spec, probe_endpoints


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if self._connection.transport != "local" or self._play_context.become or any(self._task.environment or ()):
            return merge_hash(result, self._execute_module(task_vars=task_vars))
        # As a module's exit_json does: no secret (no_log option, Authorization header) in the result.
        probed = run_part(None, probe_endpoints, "http_probe", self._task.args, probe_argument_spec(),
                          check_mode=self._task.check_mode)
        return merge_hash(result, dict(probed, changed=False))
