"""Run a module's main() in-process: exit_json / fail_json raise instead of exiting."""

import contextlib
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """main() called exit_json; .result holds what it returned."""

    def __init__(self, result):
        super().__init__(result)
        self.result = result


class ModuleFail(Exception):
    """main() called fail_json; .result holds msg and the rest."""

    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


def _exit(self, **kwargs):
    raise ModuleExit(kwargs)


def _fail(self, msg, **kwargs):
    raise ModuleFail(dict(kwargs, msg=msg))


@contextlib.contextmanager
def module_exits():
    with mock.patch.object(basic.AnsibleModule, "exit_json", _exit), \
         mock.patch.object(basic.AnsibleModule, "fail_json", _fail):
        yield


def run_module(main, args):
    """Call main() with args; return ("exit" | "fail", result dict)."""
    with module_exits(), patch_module_args(args):
        try:
            main()
        except ModuleExit as done:
            return "exit", done.result
        except ModuleFail as failed:
            return "fail", failed.result
    raise AssertionError("main() returned without exit_json or fail_json")
