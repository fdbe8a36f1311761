"""Vars plugin that adds no variable: it loads every filter and test plugin once, in the playbook's
own process, before Ansible forks a worker for a host's task.

Each worker otherwise loads them anew: the first template of a task looks its filters up through
every filter plugin file (Ansible's and the project's, with the module_utils they import), which
cost ~0.13 s of controller CPU per host and task on 2 cores (bench/fleet_cost.py), more than an SSH
round trip of `ansible -m ping`. Loaded here, every worker inherits them from the fork.
"""

from __future__ import annotations

import contextlib

from ansible.plugins.loader import filter_loader, test_loader
from ansible.plugins.vars import BaseVarsPlugin

DOCUMENTATION = """
name: preload_plugins
short_description: load the filter and test plugins once, before the workers fork
description:
  - Adds no variable. Enabled in the project's ansible.cfg (vars_plugins_enabled).
"""


class VarsModule(BaseVarsPlugin):
    REQUIRES_ENABLED = True
    _loaded = False

    def get_vars(self, loader, path, entities, cache=True):
        if not VarsModule._loaded:
            VarsModule._loaded = True
            # A plugin that cannot be loaded fails later, with its own message, in the task that uses it.
            with contextlib.suppress(Exception):
                for plugins in (filter_loader, test_loader):
                    for _ in plugins.all():
                        pass
        return {}
