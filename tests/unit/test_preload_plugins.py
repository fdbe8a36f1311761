"""preload_plugins: loads every filter plugin (the project's too) in the calling process, adds no variable.

It runs in a fresh Python process: in the test session, other tests have imported the filter files
already, and the check would pass whatever the plugin did.
"""

import json
import os
import subprocess
import sys

from conftest import PROJECT

CHECK = """
import importlib.util, json, sys
folder = sys.argv[1] + "/filter_plugins"
def loaded():
    return sorted({m.__file__ for m in list(sys.modules.values())
                   if (getattr(m, "__file__", None) or "").startswith(folder)})
spec = importlib.util.spec_from_file_location("vars_preload_plugins", sys.argv[1] + "/vars_plugins/preload_plugins.py")
plugin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plugin)
before = loaded()
first = plugin.VarsModule().get_vars(None, sys.argv[1], [])
after = loaded()
second = plugin.VarsModule().get_vars(None, sys.argv[1], [])
print(json.dumps({"before": before, "after": after, "first": first, "second": second,
                  "flag": plugin.VarsModule._loaded}))
"""


def test_loads_the_project_filters_once_and_adds_no_variable():
    env = {**os.environ, "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg")}
    run = subprocess.run([sys.executable, "-c", CHECK, str(PROJECT)], cwd=PROJECT, env=env,
                         capture_output=True, text=True, check=True)
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["before"] == []
    assert {str(path) for path in (PROJECT / "filter_plugins").glob("*.py")} <= set(seen["after"])
    assert seen["first"] == {} and seen["second"] == {}  # the second call loads nothing anew
    assert seen["flag"]
