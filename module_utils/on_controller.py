"""Run, not imported, by the project's code on the controller: makes module_utils/ importable there.

Ansible puts the folder ``module_utils`` of ansible.cfg on ``ansible.module_utils`` only for the
modules it sends to a host; a plugin of a collection imports its collection's module_utils, but a
playbook project's own filter and action plugins (and its tests and bench scripts) get no such path.
Each of them runs this file (``runpy.run_path``), which does it once, here:

    runpy.run_path(str(Path(__file__).resolve().parents[1] / "module_utils" / "on_controller.py"))

No module imports it, so it never travels to a host.
"""

from pathlib import Path

import ansible.module_utils

MODULE_UTILS = str(Path(__file__).resolve().parent)
if MODULE_UTILS not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(MODULE_UTILS)
