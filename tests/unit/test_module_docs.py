"""What each module's RETURN documents is what it returns, on a real result from the demo target.

tests/fixtures/results/<module>.json holds a result captured over SSH from the demo target (for the
modules that are action plugins, on the controller).
"""

import importlib
import json

import pytest
import yaml
from conftest import FIXTURES, PROJECT, load_action_plugin

MODULES = sorted(p.stem for p in (PROJECT / "library").glob("*.py"))


def _undocumented(value, spec, prefix=""):
    """Dotted keys of a result that RETURN does not document, walking both together.

    A dict documented with one key in `contains` while it holds others (units, databases by
    name) is keyed by names: that one key documents each of its entries.
    """
    missing = []
    if isinstance(value, list):
        for item in value:
            missing += _undocumented(item, spec, prefix)
        return missing
    if not isinstance(value, dict) or not spec:
        return missing
    placeholder = next(iter(spec)) if len(spec) == 1 and not set(value) & set(spec) else None
    for key, sub in value.items():
        doc = spec.get(placeholder or key)
        path = f"{prefix}.{key}" if prefix else key
        if doc is None:
            missing.append(path)
            continue
        for field in ("description", "returned", "type"):
            assert field in doc, f"RETURN of {path} lacks {field}"
        missing += _undocumented(sub, doc.get("contains") or {}, path)
    return missing


@pytest.fixture(params=MODULES)
def module(request):
    return importlib.import_module(request.param)


def test_every_module_has_a_real_result_fixture(module):
    assert (FIXTURES / "results" / f"{module.__name__}.json").is_file()


def argument_spec(module):
    """A module's options: its own, or its action plugin's when the module file only documents it."""
    if hasattr(module, "get_argument_spec"):
        return module.get_argument_spec()
    return load_action_plugin(module.__name__).ARGUMENT_SPEC


def test_docs_parse_and_match_the_argument_spec(module):
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == module.__name__
    assert set(doc["options"]) == set(argument_spec(module))
    yaml.safe_load(module.EXAMPLES)


def test_returned_keys_are_documented_and_documented_keys_returned(module):
    spec = yaml.safe_load(module.RETURN)
    result = json.loads((FIXTURES / "results" / f"{module.__name__}.json").read_text())
    for generic in ("invocation", "changed", "failed", "warnings", "deprecations", "_ansible_no_log"):
        result.pop(generic, None)
    undocumented = _undocumented(result, spec)
    assert not undocumented, f"returned but not in RETURN: {sorted(undocumented)}"
    always_missing = [k for k, d in spec.items() if d["returned"] == "always" and k not in result]
    assert not always_missing, f"documented as always returned but missing: {sorted(always_missing)}"
