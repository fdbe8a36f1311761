"""preload_plugins: loads every filter plugin (the project's too) in the calling process, adds no variable."""

import importlib.util
import sys

from conftest import PROJECT


def project_filters_loaded():
    folder = str(PROJECT / "filter_plugins")
    return {module.__file__ for module in list(sys.modules.values())
            if (getattr(module, "__file__", None) or "").startswith(folder)}


def test_loads_the_project_filters_once_and_adds_no_variable():
    path = PROJECT / "vars_plugins" / "preload_plugins.py"
    spec = importlib.util.spec_from_file_location("vars_preload_plugins", path)
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)

    assert plugin.VarsModule().get_vars(None, str(PROJECT), []) == {}
    loaded = project_filters_loaded()
    assert {str(path) for path in (PROJECT / "filter_plugins").glob("*.py")} <= loaded
    assert plugin.VarsModule._loaded
    assert plugin.VarsModule().get_vars(None, str(PROJECT), []) == {}  # the second call loads nothing anew
