"""redis_facts and postgres_facts return exactly what their RETURN documents, key by key and type by type.

Checked on the real results recorded over SSH on a demo target (tests/fixtures/results/, see
record_datastores.yml there), and on results of main() built from captured runs that fill what
the recorded ones leave null (slowest_statements).
"""

import json

import postgres_facts
import pytest
import redis_facts
import yaml
from conftest import FIXTURES
from test_postgres_facts import run_main

TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool, "dict": dict, "list": list}
FIELDS = ("description", "returned", "type", "sample")


def recorded(module):
    return json.loads((FIXTURES / "results" / f"{module.__name__}.json").read_text())


def entries(spec, prefix=""):
    """Every documented key, nested ones included, as (dotted path, entry)."""
    for key, entry in spec.items():
        path = f"{prefix}.{key}" if prefix else key
        yield path, entry
        yield from entries(entry.get("contains") or {}, path)


def mismatches(value, entry, path):
    """Where `value` differs from its RETURN `entry`: keys not documented or missing, wrong types."""
    found = []
    if value is None:
        return found
    expected = TYPES[entry["type"]]
    if not isinstance(value, expected) or (entry["type"] in ("int", "float") and isinstance(value, bool)):
        return [f"{path}: {type(value).__name__} is not {entry['type']}"]
    contains = entry.get("contains")
    if not contains:
        return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found += mismatches(item, {"type": entry.get("elements", "dict"), "contains": contains},
                                f"{path}[{index}]")
        return found
    if len(contains) == 1 and next(iter(contains)).startswith("<"):   # keyed by names (<db>)
        (name_entry,) = contains.values()
        for key, item in value.items():
            found += mismatches(item, name_entry, f"{path}.{key}")
        return found
    found += [f"{path}.{key}: not documented" for key in sorted(set(value) - set(contains))]
    found += [f"{path}.{key}: documented, not returned" for key in sorted(set(contains) - set(value))]
    for key in set(value) & set(contains):
        found += mismatches(value[key], contains[key], f"{path}.{key}")
    return found


@pytest.mark.parametrize("module", [redis_facts, postgres_facts], ids=lambda m: m.__name__)
def test_every_return_entry_has_description_returned_type_and_sample(module):
    spec = yaml.safe_load(module.RETURN)
    lacking = [f"{path} lacks {field}" for path, entry in entries(spec) for field in FIELDS if field not in entry]
    assert not lacking


@pytest.mark.parametrize(("module", "key"), [(redis_facts, "redis"), (postgres_facts, "postgres")],
                         ids=["redis_facts", "postgres_facts"])
def test_the_recorded_result_is_what_return_documents(module, key):
    spec = yaml.safe_load(module.RETURN)
    result = recorded(module)
    assert set(result) == {"changed", key}
    assert result["changed"] is False
    assert result[key]["reachable"] is True
    assert mismatches(result[key], spec[key], key) == []


def test_the_recorded_redis_result_fills_key_scan():
    assert recorded(redis_facts)["redis"]["key_scan"] is not None


def test_slowest_statements_are_what_return_documents():
    spec = yaml.safe_load(postgres_facts.RETURN)
    _, result, _ = run_main({"db": "tsh_erp"}, "facts_with_statements")
    assert result["postgres"]["slowest_statements"]
    assert mismatches(result["postgres"], spec["postgres"], "postgres") == []


@pytest.mark.parametrize("module", [redis_facts, postgres_facts], ids=lambda m: m.__name__)
def test_the_samples_have_the_documented_types(module):
    spec = yaml.safe_load(module.RETURN)
    wrong = [path for path, entry in entries(spec)
             if entry["sample"] is not None and mismatches(entry["sample"], {"type": entry["type"]}, path)]
    assert not wrong
