"""What each module's RETURN documents is what it returns, on a real result from the demo target.

tests/fixtures/results/<module>.json holds a result captured over SSH from the demo target (for the
modules that are action plugins, on the controller). A module's documentation is read as ansible-doc
reads it, with the options of its doc fragments (doc_fragments/).
"""

import importlib
import json

import pytest
import yaml
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import get_docstring
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


def documentation(module) -> dict:
    """DOCUMENTATION with its doc fragments merged in, as ansible-doc shows it."""
    fragment_loader.add_directory(str(PROJECT / "doc_fragments"))
    return get_docstring(module.__file__, fragment_loader, is_module=True)[0]


def test_docs_parse_and_match_the_argument_spec(module):
    doc = documentation(module)
    assert doc["module"] == module.__name__
    assert set(doc["options"]) == set(argument_spec(module))
    yaml.safe_load(module.EXAMPLES)


SPEC_FIELDS = {"type": "str", "default": None, "choices": None, "elements": None, "aliases": None,
               "required": False}


def spec_mismatches(options: dict, spec: dict, prefix: str = "") -> list[str]:
    """Where what the docs say of an option's type, default, choices, elements, aliases or required
    differs from the argument spec, suboptions included."""
    mismatches = []
    for name, doc in options.items():
        arg = spec.get(name, {})
        for field, absent in SPEC_FIELDS.items():
            said, defined = doc.get(field, absent), arg.get(field, absent)
            if field == "aliases":  # aliases=[] takes the option's aliases away, as none
                said, defined = said or None, defined or None
            if said != defined:
                mismatches.append(f"{prefix}{name}.{field}: docs {said!r}, spec {defined!r}")
        if doc.get("suboptions"):
            mismatches += spec_mismatches(doc["suboptions"], arg.get("options") or {}, f"{prefix}{name}.")
    return mismatches


def test_options_are_documented_as_the_argument_spec_defines_them(module):
    # The options of doc fragments (http_probe's and http_load's connection options) included.
    assert spec_mismatches(documentation(module)["options"], argument_spec(module)) == []


def test_returned_keys_are_documented_and_documented_keys_returned(module):
    spec = yaml.safe_load(module.RETURN)
    result = json.loads((FIXTURES / "results" / f"{module.__name__}.json").read_text())
    for generic in ("invocation", "changed", "failed", "warnings", "deprecations", "_ansible_no_log"):
        result.pop(generic, None)
    undocumented = _undocumented(result, spec)
    assert not undocumented, f"returned but not in RETURN: {sorted(undocumented)}"
    always_missing = [k for k, d in spec.items() if d["returned"] == "always" and k not in result]
    assert not always_missing, f"documented as always returned but missing: {sorted(always_missing)}"


def test_http_probe_endpoints_say_of_the_request_what_the_request_fragment_says():
    # A fragment cannot fill suboptions: http_probe's endpoints repeat the request's options, each
    # description beginning with the fragment's words (then what is the probe's own).
    fragment = yaml.safe_load(fragment_loader.get("baseline_http").REQUEST)["options"]
    endpoint = documentation(importlib.import_module("http_probe"))["options"]["endpoints"]["suboptions"]
    for name, doc in fragment.items():
        said = endpoint[name]["description"]
        assert said[:len(doc["description"])] == doc["description"], name
