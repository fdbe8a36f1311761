"""What http_probe and http_load document in RETURN is what they return.

Checked against real results recorded over SSH on a demo target (tests/fixtures/results/*.json,
written by tests/fixtures/results/record.yml) and against results of main() run here against a
local server: every returned key is documented with its type, every key documented as returned
always is there, and every documented key is seen in the recorded result.
"""

import json

import http_load
import http_probe
import pytest
import yaml
from conftest import FIXTURES
from local_http import LocalServer
from module_runner import run_module

PYTHON_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "list": list, "dict": dict}
# Keys every module result may hold that are Ansible's, not the module's.
COMMON_KEYS = {"changed", "msg", "skipped", "warnings", "deprecations"}
MODULES = {"http_probe": http_probe, "http_load": http_load}


def documented(module) -> dict:
    return yaml.safe_load(module.RETURN)


def check_value(value, doc: dict, path: str, problems: list, seen: set) -> None:
    seen.add(path)
    if value is None:  # a measurement that was not made; each such key says so in its description
        return
    expected = PYTHON_TYPES[doc["type"]]
    if not isinstance(value, expected) or (doc["type"] in ("int", "float") and isinstance(value, bool)):
        problems.append(f"{path}: {type(value).__name__} returned, {doc['type']} documented")
        return
    if "contains" in doc:
        items = value if doc["type"] == "list" else [value]
        for item in items:
            check_fields(item, doc["contains"], f"{path}[]" if doc["type"] == "list" else path, problems, seen)
    elif doc["type"] == "list" and "elements" in doc:
        for item in value:
            if not isinstance(item, PYTHON_TYPES[doc["elements"]]):
                problems.append(f"{path}[]: {type(item).__name__} returned, {doc['elements']} documented")


def check_fields(actual: dict, docs: dict, path: str, problems: list, seen: set) -> None:
    for key in sorted(set(actual) - set(docs)):
        problems.append(f"{path}.{key}: returned but not documented")
    for key, doc in docs.items():
        if key in actual:
            check_value(actual[key], doc, f"{path}.{key}", problems, seen)
        elif doc["returned"] == "always":
            problems.append(f"{path}.{key}: documented as returned always, missing")


def conformance(module, result: dict) -> tuple[list, set]:
    problems: list[str] = []
    seen: set[str] = set()
    module_keys = {key: value for key, value in result.items() if key not in COMMON_KEYS}
    check_fields(module_keys, documented(module), "", problems, seen)
    return problems, seen


def all_paths(docs: dict, path: str = "") -> set:
    paths = set()
    for key, doc in docs.items():
        here = f"{path}.{key}"
        paths.add(here)
        if "contains" in doc:
            paths |= all_paths(doc["contains"], f"{here}[]" if doc["type"] == "list" else here)
    return paths


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_return_key_is_fully_described(name):
    def walk(docs, path):
        for key, doc in docs.items():
            needed = {"description", "returned", "type"} | (set() if "contains" in doc else {"sample"})
            missing = needed - set(doc)
            assert not missing, f"{path}.{key} lacks {sorted(missing)}"
            assert doc["type"] in PYTHON_TYPES, f"{path}.{key}: unknown type {doc['type']}"
            if "contains" in doc:
                walk(doc["contains"], f"{path}.{key}")

    walk(documented(MODULES[name]), "")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_recorded_result_matches_return(name):
    recorded = json.loads((FIXTURES / "results" / f"{name}.json").read_text())
    assert "invocation" not in recorded
    problems, seen = conformance(MODULES[name], recorded)
    assert problems == []
    # Every documented key occurs in the recorded result: nothing documented is never returned.
    assert sorted(all_paths(documented(MODULES[name])) - seen) == []


@pytest.fixture(scope="module")
def http_server():
    server = LocalServer()
    yield server
    server.close()


def test_live_probe_result_matches_return(http_server):
    outcome, result = run_module(http_probe.main, {"endpoints": [
        {"name": "ok", "url": f"http://127.0.0.1:{http_server.port}/ok", "return_body": True},
        {"name": "broken", "url": f"http://127.0.0.1:{http_server.port}/status/500"},
    ], "warm_samples": 3})
    assert outcome == "exit"
    assert conformance(http_probe, result)[0] == []


def test_live_load_result_matches_return(http_server):
    outcome, result = run_module(http_load.main, {"url": f"http://127.0.0.1:{http_server.port}/ok",
                                                  "concurrency": 2, "requests": 10})
    assert outcome == "exit"
    assert conformance(http_load, result)[0] == []
