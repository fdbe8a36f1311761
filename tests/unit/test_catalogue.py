"""The catalogue of summary figures (module_utils/baseline_catalogue.py) against what follows it."""

import json

import pytest
from ansible.module_utils.baseline_catalogue import ACROSS_HOSTS, CATALOGUE, METRICS, Metric, delta_pct, human_metric
from conftest import PROJECT

SCHEMA = json.loads((PROJECT / "schemas" / "baseline.schema.json").read_text())
NULL_OR_NONNEGATIVE = {"$ref": "#/$defs/nonneg_or_null"}


def schema_of(metric):
    """The JSON Schema a summary figure's value must meet, from its unit: a count or a size is a whole
    number, a time or a rate a number; none is negative, a figure with a ceiling stays below it."""
    if metric.unit in ("bytes", "count"):
        return {"type": ["integer", "null"], "minimum": 0}
    if metric.ceiling is not None:
        return {"type": ["number", "null"], "minimum": 0, "maximum": metric.ceiling}
    return NULL_OR_NONNEGATIVE


def test_the_schemas_summary_is_the_catalogue():
    summary = SCHEMA["properties"]["summary"]
    assert summary["required"] == [m.key for m in CATALOGUE]
    assert summary["additionalProperties"] is False
    assert summary["properties"] == {m.key: schema_of(m) for m in CATALOGUE}
    assert list(summary["properties"]) == list(METRICS)


def test_every_figure_is_well_formed():
    assert len(METRICS) == len(CATALOGUE)
    for metric in CATALOGUE:
        assert metric.unit in ("ms", "%", "bytes", "s", "count"), metric.key
        assert metric.better in ("lower", "higher", "none"), metric.key
        assert metric.noise_floor >= 0, metric.key
        assert metric.prometheus_divisor in (1, 100, 1000), metric.key
        # Prometheus' conventions: the base unit in the name, a ratio for a share.
        if metric.unit in ("ms", "s"):
            assert metric.prometheus_name.endswith("_seconds"), metric.key
        if metric.unit == "%":
            assert (metric.prometheus_name.endswith("_ratio"), metric.prometheus_divisor) == (True, 100), metric.key


def test_every_figure_says_how_a_service_makes_it_of_its_hosts():
    for metric in CATALOGUE:
        assert metric.across_hosts and set(metric.across_hosts) <= set(ACROSS_HOSTS), metric.key
    # Memory the hosts' own processes use adds up; a Redis they may share does not.
    assert METRICS["app_memory_bytes"].across_hosts[0] == "sum"
    assert "sum" not in METRICS["cache_memory_bytes"].across_hosts
    with pytest.raises(ValueError, match=r"^x: across_hosts needs one or more of \('sum', 'mean', 'max', 'min'\)"):
        Metric("x", "X", "ms", "lower", 0, "x", "X.", across_hosts=("median",))
    with pytest.raises(ValueError, match=r"^x: across_hosts needs one or more"):
        Metric("x", "X", "ms", "lower", 0, "x", "X.")


def test_only_uptime_is_not_judged():
    assert [m.key for m in CATALOGUE if not m.judged] == ["uptime_s"]


@pytest.mark.parametrize(("key", "value", "text"), [
    ("api_response_time_cold_ms", 12.345, "12.3 ms"),
    ("cache_hit_rate_pct", 80, "80.0 %"),
    ("cache_memory_bytes", 1536, "1.5 KiB"),
    ("uptime_s", 93784, "1 d 2 h"),
    ("error_count", 3, "3"),
    ("error_count", None, "n/a"),
])
def test_a_figure_as_a_person_reads_it(key, value, text):
    assert human_metric(value, key) == text


def test_delta_pct():
    assert (delta_pct(110, 100), delta_pct(90, -100), delta_pct(1, 0), delta_pct(None, 1)) == (10.0, 190.0, None, None)
