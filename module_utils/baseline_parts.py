"""The one stand-in for the AnsibleModule that a module's reading runs with outside its own module run.

A read_* function (or probe_endpoints) takes a Part in place of the AnsibleModule: the Part has the
part's own params and warnings, and turns the part's fail_json into PartFailed, so that one part's
failure ends that part only. The baseline_facts module runs several fact modules' readings in one
module run, each as a Part of the real module, whose commands it runs through that module; the
http_probe and baseline_facts action plugins run the probe in the controller's process as a Part of
no module. Only the standard library and module_utils are used.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.common.process import get_bin_path

# The folder psql runs in as another user: one every user may enter, so nothing is read or
# written in that user's home or in the module's own working folder.
RUN_AS_CWD = "/tmp"


class PartFailed(Exception):
    """A part called fail_json; .result holds msg and the rest, as the module would return them."""

    def __init__(self, result: dict):
        super().__init__(result.get("msg"))
        self.result = result


class Part:
    """What a read_* function uses of an AnsibleModule, for one part of a combined run.

    module is the real AnsibleModule, or None where there is none (an action plugin in the
    controller's process): then check_mode is the task's, the part keeps its own no_log_values,
    and it has no commands to run. run_as names a user to run the part's commands as, with
    `runuser -u USER --` (the module must run as root); None runs them as the module's user.
    """

    def __init__(self, module, params: dict, run_as: str | None = None, check_mode: bool = False):
        self._module = module
        self.params = params
        self.warnings: list[str] = []
        self._run_as = run_as
        self.check_mode = module.check_mode if module is not None else check_mode
        self.no_log_values: set[str] = module.no_log_values if module is not None else set()

    def __getattr__(self, name: str):
        # Anything else a read_* function or a helper of Ansible's uses (debug, ...) is the module's.
        return getattr(self._module, name)

    @property
    def run_command_environ_update(self) -> dict:
        return self._module.run_command_environ_update

    @run_command_environ_update.setter
    def run_command_environ_update(self, value: dict) -> None:
        self._module.run_command_environ_update = value

    def warn(self, warning: str) -> None:
        self.warnings.append(warning)
        if self._module is not None:
            self._module.warn(warning)

    def fail_json(self, msg: str, **kwargs):
        raise PartFailed(dict(kwargs, msg=msg))

    def get_bin_path(self, arg: str, required: bool = False, opt_dirs=None):
        # The module's get_bin_path(required=True) would end the whole run with its fail_json.
        path = self._module.get_bin_path(arg, required=False, opt_dirs=opt_dirs)
        if path is None and required:
            try:
                get_bin_path(arg, opt_dirs=opt_dirs)
            except ValueError as exc:
                self.fail_json(msg=str(exc))
            self.fail_json(msg=f"Failed to find required executable {arg!r}")
        return path

    def run_command(self, args, **kwargs):
        if self._run_as:
            runuser = self.get_bin_path("runuser", required=True)
            args = [runuser, "-u", self._run_as, "--", *args]
            kwargs.setdefault("cwd", RUN_AS_CWD)
        return self._module.run_command(args, **kwargs)


def validated(spec: dict, params: dict, no_log_values: set[str]) -> dict:
    """params checked against the argument spec of the module that reads a part, defaults added;
    the values of the spec's no_log options are added to no_log_values."""
    result = ArgumentSpecValidator(spec).validate(params)
    if result.error_messages:
        raise PartFailed({"msg": result.errors.msg})
    no_log_values.update(result._no_log_values)
    return result.validated_parameters


def run_part(module, read, key: str, params: dict, spec: dict | None = None, run_as: str | None = None,
             check_mode: bool = False) -> dict:
    """One part's result, shaped as the registered result of the module that reads it alone:
    {key: facts}, or {failed: true, msg: ...}; with the part's warnings, if any.

    With spec, params are first checked against it and completed with its defaults. Of no module
    (module None: an action plugin's process), the part runs in check_mode, and its result comes
    without the secrets it saw (the spec's no_log options, the headers it hid), as a module's
    exit_json would give it.
    """
    part = Part(module, params, run_as, check_mode)
    try:
        if spec is not None:
            part.params = validated(spec, params, part.no_log_values)
        result = {key: read(part)}
    except PartFailed as failure:
        result = dict(failure.result, failed=True)
    except Exception as exc:  # a bug in one part must not lose the other parts' facts
        result = {"failed": True, "msg": f"reading {key}: {type(exc).__name__}: {exc}",
                  "exception": traceback.format_exc()}
    if part.warnings:
        result["warnings"] = part.warnings
    return result if module is not None else remove_values(result, part.no_log_values)


def postgres_run_as(run_as: str | None, user: str, is_root: bool) -> str:
    """How to read PostgreSQL as the OS user run_as, the module running as `user`:
    'self' (as the module's user), 'runuser' (root runs psql as run_as), or 'deferred'
    (only a become of its own can switch to run_as)."""
    if not run_as or run_as == user:
        return "self"
    return "runuser" if is_root else "deferred"
