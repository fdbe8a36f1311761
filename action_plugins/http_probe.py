"""Action plugin of the http_probe module: on the controller, the probe runs in the task's own process.

A task of a local connection (delegate_to: localhost, the baseline role's public probe) runs the
module's code here, without starting a Python process for it: the same code, options and result.
Any other task (a probe from a host, or one with become or environment) runs the module as usual.
"""

from __future__ import annotations

import runpy
from pathlib import Path

from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

# The project's module_utils, importable here as in the modules Ansible sends to a host.
runpy.run_path(str(Path(__file__).resolve().parents[1] / "module_utils" / "on_controller.py"))

from ansible.module_utils.baseline_parts import Part, PartFailed
from ansible.module_utils.baseline_probe import probe_argument_spec, probe_endpoints


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if self._connection.transport != "local" or self._play_context.become or any(self._task.environment or ()):
            return merge_hash(result, self._execute_module(task_vars=task_vars))
        validation, params = self.validate_argument_spec(probe_argument_spec())
        part = Part(None, params, check_mode=self._task.check_mode)
        try:
            probed = dict(changed=False, http_probe=probe_endpoints(part))
        except PartFailed as failure:
            probed = dict(failure.result, failed=True)
        if part.warnings:
            probed["warnings"] = part.warnings
        # As a module's exit_json does: no secret (no_log option, Authorization header) in the result.
        return merge_hash(result, remove_values(probed, validation._no_log_values | part.no_log_values))
