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

from ansible.module_utils.baseline_probe import probe_argument_spec, probe_endpoints


class ProbeFailed(Exception):
    def __init__(self, result: dict):
        super().__init__(result.get("msg"))
        self.result = result


class ControllerModule:
    """What probe_endpoints uses of an AnsibleModule, in the action's own process."""

    def __init__(self, params: dict, check_mode: bool):
        self.params, self.check_mode = params, check_mode
        self.no_log_values: set[str] = set()
        self.warnings: list[str] = []

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)

    def fail_json(self, msg: str, **kwargs):
        raise ProbeFailed(dict(kwargs, msg=msg))


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        if self._connection.transport != "local" or self._play_context.become or any(self._task.environment or ()):
            return merge_hash(result, self._execute_module(task_vars=task_vars))
        validation, params = self.validate_argument_spec(probe_argument_spec())
        module = ControllerModule(params, self._task.check_mode)
        try:
            probed = dict(changed=False, http_probe=probe_endpoints(module))
        except ProbeFailed as failure:
            probed = dict(failure.result, failed=True)
        if module.warnings:
            probed["warnings"] = module.warnings
        # As a module's exit_json does: no secret (no_log option, Authorization header) in the result.
        return merge_hash(result, remove_values(probed, validation._no_log_values | module.no_log_values))
