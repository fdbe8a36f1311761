"""The Prometheus export of a baseline, read back with Prometheus' own parser (prometheus_client).

The golden file is the export of a whole baseline that baseline.yml wrote on a demo target
(tests/fixtures/history); after an intended change, regenerate it with
UPDATE_GOLDEN=1 pytest tests/unit/test_metrics.py and read the diff. The other cases build their
records with the dbl_baseline_record filter from the recorded module results (tests/fixtures/results).
"""

import json
import os
import re
from datetime import datetime

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from baseline import FilterModule as BaselineFilters
from conftest import FIXTURES, PROJECT
from metrics import FilterModule, metric_names
from prometheus_client.parser import text_string_to_metric_families

F = FilterModule().filters()
ROLE = PROJECT / "roles" / "baseline"
GOLDEN = PROJECT / "tests" / "golden"
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
baseline_record = BaselineFilters().filters()["dbl_baseline_record"]

BASE_LABELS = {"host": "demo", "service": "tsh_erp", "color": "green", "environment": "demo"}
# A whole baseline as baseline.yml wrote it, both probes (public and local) included.
WRITTEN = FIXTURES / "history" / "20261129T185723Z.yml"
# Families without a unit: a 0/1 state or a count.
UNITLESS = {"deploy_baseline_host_reachable", "deploy_baseline_verdict_status", "deploy_baseline_journal_errors",
            "deploy_baseline_endpoint_ok", "deploy_baseline_part_measured", "deploy_baseline_figure_regressed",
            "deploy_baseline_app_restarts", "deploy_baseline_journal_errors_exact"}
DAILY_S = 26 * 3600
# Summary figure -> (metric, divisor from the record's unit to the base unit).
SUMMARY_METRICS = {
    "api_response_time_cold_ms": ("deploy_baseline_api_response_cold_seconds", 1000),
    "api_response_time_warm_ms": ("deploy_baseline_api_response_warm_p50_seconds", 1000),
    "cache_hit_rate_pct": ("deploy_baseline_cache_hit_ratio", 100),
    "cache_memory_bytes": ("deploy_baseline_cache_memory_bytes", 1),
    "app_memory_bytes": ("deploy_baseline_app_memory_bytes", 1),
    "app_cpu_avg_pct": ("deploy_baseline_app_cpu_ratio", 100),
    "uptime_s": ("deploy_baseline_app_uptime_seconds", 1),
    "error_count": ("deploy_baseline_journal_errors", 1),
}


def recorded(module):
    return json.loads((FIXTURES / "results" / f"{module}.json").read_text())


def record(results=None, **context):
    found = {"units": recorded("systemd_unit_facts"), "journal": recorded("journal_errors"),
             "redis": recorded("redis_facts"), "postgres": recorded("postgres_facts"),
             "http_local": {"skipped": True}, "http_public": recorded("http_probe"), "load": recorded("http_load")}
    found.update(results or {})
    ctx = {"host": "demo", "environment": "demo", "service": "tsh_erp", "color": "green",
           "measured_at": "2026-11-29T18:16:00Z", "public_url": "https://erp.demo.test", "unreachable_reason": "",
           "thresholds": DEFAULTS["baseline_thresholds"], "targets": DEFAULTS["baseline_targets"],
           "known_issues": [], "history": [], "noise_pct": 10}
    ctx.update(context)
    return baseline_record(found, ctx)


def written():
    return yaml.safe_load(WRITTEN.read_text())


def parse(text):
    """{metric name: family} as Prometheus reads the text; fails on anything it would refuse."""
    return {family.name: family for family in text_string_to_metric_families(text)}


def samples(families, name):
    return {tuple(sorted(s.labels.items())): s.value for s in families[name].samples}


def only_value(families, name):
    (value,) = samples(families, name).values()
    return value


def test_written_baseline_matches_golden():
    text = F["dbl_baseline_prometheus"](written(), DAILY_S)
    path = GOLDEN / "metrics_written.prom"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), "metrics_written.prom changed; if intended, run with UPDATE_GOLDEN=1"


def test_names_types_help_and_labels_follow_prometheus_conventions():
    rec = dict(written(), journal={"exact": True})  # the fixture predates the journal block of the record
    text = F["dbl_baseline_prometheus"](rec, DAILY_S)
    families = parse(text)
    assert sorted(families) == sorted(metric_names())  # a whole baseline writes every family the list names
    labels = {"host": rec["host"], "service": rec["service"], "color": rec["color"],
              "environment": rec["environment"]}
    assert len(families) == text.count("# TYPE ")  # every family the parser saw has one TYPE line
    for name, family in families.items():
        assert re.fullmatch(r"deploy_baseline_[a-z0-9_]+", name), name
        assert family.type == "gauge"
        assert family.documentation, f"{name} has no HELP"
        assert name in UNITLESS or name.endswith(("_seconds", "_bytes", "_ratio")), f"{name} names no unit"
        assert not name.endswith("_total"), "a gauge must not look like a counter"
        for sample in family.samples:
            assert {k: sample.labels[k] for k in labels} == labels
            assert sample.timestamp is None  # node_exporter's textfile collector refuses timestamps
    for name in ("deploy_baseline_cache_hit_ratio", "deploy_baseline_app_cpu_ratio"):
        assert 0 <= only_value(families, name) <= 1


@pytest.mark.parametrize("rec", [written(), record()], ids=["written", "built"])
def test_figures_equal_the_records_in_base_units(rec):
    families = parse(F["dbl_baseline_prometheus"](rec))
    for key, (name, divisor) in SUMMARY_METRICS.items():
        assert only_value(families, name) * divisor == pytest.approx(rec["summary"][key], rel=1e-9), key
    measured_at = datetime.fromisoformat(rec["measured_at"].replace("Z", "+00:00")).timestamp()
    assert only_value(families, "deploy_baseline_last_run_timestamp_seconds") == measured_at
    assert only_value(families, "deploy_baseline_host_reachable") == 1


def test_a_lower_bound_of_the_errors_says_so():
    exact = parse(F["dbl_baseline_prometheus"](record()))
    assert only_value(exact, "deploy_baseline_journal_errors_exact") == 1
    cut = dict(record(), journal=dict(record()["journal"], exact=False))
    assert only_value(parse(F["dbl_baseline_prometheus"](cut)), "deploy_baseline_journal_errors_exact") == 0
    assert "deploy_baseline_journal_errors_exact" not in parse(F["dbl_baseline_prometheus"](written()))  # before it


def test_endpoints_latency_per_endpoint_and_probe():
    rec = record()
    families = parse(F["dbl_baseline_prometheus"](rec))
    cold = samples(families, "deploy_baseline_endpoint_cold_seconds")
    answered = [e for e in rec["facts"]["http_public"] if e["ok"]]
    assert len(cold) == len(answered)
    for endpoint in answered:
        key = tuple(sorted({**BASE_LABELS, "endpoint": endpoint["name"], "via": "public"}.items()))
        assert cold[key] * 1000 == pytest.approx(endpoint["cold"]["total_ms"])
        assert samples(families, "deploy_baseline_endpoint_warm_p50_seconds")[key] * 1000 == pytest.approx(
            endpoint["warm"]["p50_ms"])
    ok = samples(families, "deploy_baseline_endpoint_ok")
    assert sorted(ok.values()) == sorted(1.0 if e["ok"] else 0.0 for e in rec["facts"]["http_public"])


def test_a_failed_endpoint_has_no_latency_only_ok_0():
    probe = recorded("http_probe")
    failed = dict(probe["http_probe"][0], ok=False, status=503,
                  error={"kind": "http_status", "msg": "status 503"})
    rec = record({"http_public": {"http_probe": [failed]}})
    families = parse(F["dbl_baseline_prometheus"](rec))
    assert list(samples(families, "deploy_baseline_endpoint_ok").values()) == [0.0]
    assert "deploy_baseline_endpoint_cold_seconds" not in families


def test_verdict_is_a_state_set_with_one_status_at_1():
    families = parse(F["dbl_baseline_prometheus"](dict(record(), verdict={"status": "warning", "text": "x"})))
    states = {dict(labels)["status"]: value
              for labels, value in samples(families, "deploy_baseline_verdict_status").items()}
    assert states == {"ok": 0, "pending": 0, "warning": 1, "critical": 0, "failed": 0}


def test_a_null_figure_has_no_metric():
    down = {"changed": False, "redis": {"reachable": False, "error_kind": "refused",
                                         "error": "unable to connect to Redis at 127.0.0.1:6379: Connection refused"}}
    rec = record({"redis": down})
    assert rec["summary"]["cache_hit_rate_pct"] is None
    text = F["dbl_baseline_prometheus"](rec)
    families = parse(text)
    assert "deploy_baseline_cache_hit_ratio" not in families
    assert "deploy_baseline_cache_memory_bytes" not in text  # no HELP or TYPE either
    assert "deploy_baseline_app_memory_bytes" in families


def test_unreachable_host_says_so_and_keeps_what_the_controller_measured():
    rec = record({"units": {"unreachable": True, "msg": "ssh: connect refused"}},
                 color="", unreachable_reason="ssh: connect refused")
    families = parse(F["dbl_baseline_prometheus"](rec))
    assert only_value(families, "deploy_baseline_host_reachable") == 0
    assert dict(next(iter(samples(families, "deploy_baseline_host_reachable"))))["color"] == ""
    assert "deploy_baseline_app_memory_bytes" not in families
    assert "deploy_baseline_api_response_cold_seconds" in families  # the public URL was probed


def test_label_values_are_escaped():
    host = 'a"b\\c\nd'
    families = parse(F["dbl_baseline_prometheus"](dict(record(), host=host)))
    (labels,) = samples(families, "deploy_baseline_host_reachable")
    assert dict(labels)["host"] == host


def test_secrets_of_the_record_never_reach_the_metrics():
    secret = "s3cret-Pa55"
    probe = recorded("http_probe")
    endpoint = dict(probe["http_probe"][0], url=f"https://erp.demo.test/health?token={secret}")
    rec = record({"http_public": {"http_probe": [endpoint]}}, public_url=f"https://ops:{secret}@erp.demo.test")
    rec["problems"]["redis"] = f"unable to authenticate with password {secret}"
    rec["facts"]["redis"] = dict(rec["facts"]["redis"], error=f"AUTH {secret} failed")
    text = F["dbl_baseline_prometheus"](rec)
    assert secret not in text
    assert "erp.demo.test" not in text  # no URL at all: a URL may carry credentials


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: [], "dbl_baseline_prometheus: expected a baseline record with a summary"),
    (lambda r: dict(r, summary=None), "dbl_baseline_prometheus: expected a baseline record with a summary"),
    (lambda r: dict(r, host="", service=None), "dbl_baseline_prometheus: the record has no host, service"),
    (lambda r: dict(r, measured_at="yesterday"), "dbl_baseline_prometheus: measured_at is not an ISO 8601 time"),
    (lambda r: dict(r, measured_at="2026-11-29T18:16:00"), "dbl_baseline_prometheus: measured_at has no time zone"),
    (lambda r: dict(r, verdict={"status": "good"}), "dbl_baseline_prometheus: unknown verdict status 'good'"),
    (lambda r: dict(r, summary=dict(r["summary"], uptime_s="7 min")),
     "dbl_baseline_prometheus: summary.uptime_s must be a finite number, got '7 min'"),
    (lambda r: dict(r, summary=dict(r["summary"], error_count=True)),
     "dbl_baseline_prometheus: summary.error_count must be a finite number"),
    (lambda r: dict(r, summary=dict(r["summary"], app_cpu_avg_pct=float("nan"))),
     "dbl_baseline_prometheus: summary.app_cpu_avg_pct must be a finite number"),
])
def test_baseline_prometheus_errors_name_the_filter(change, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_baseline_prometheus"](change(record()))


@pytest.mark.parametrize(("path", "dest", "where"), [
    ("metrics.prom", "controller", "/r/demo/metrics.prom"),
    ("/var/lib/prometheus/node-exporter/deploy_baseline.prom", "controller",
     "/var/lib/prometheus/node-exporter/deploy_baseline.prom"),
    ("/var/lib/prometheus/node-exporter/deploy_baseline.prom", "host",
     "/var/lib/prometheus/node-exporter/deploy_baseline.prom"),
])
def test_prometheus_path(path, dest, where):
    assert F["dbl_prometheus_path"](path, "/r/demo/", dest) == where


@pytest.mark.parametrize(("path", "dest", "message"), [
    ("metrics.prom", "host", "dbl_prometheus_path: a metrics file on the host needs an absolute path"),
    ("metrics.prom", "both", "dbl_prometheus_path: dest must be controller or host, not 'both'"),
    ("", "controller", "dbl_prometheus_path: expected the metrics file as a non-empty string"),
])
def test_prometheus_path_errors(path, dest, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_prometheus_path"](path, "/r/demo", dest)


def labelled(families, name, label):
    """{label value: sample value} of a family."""
    return {dict(labels)[label]: value for labels, value in samples(families, name).items()}


def test_parts_measured_say_which_part_could_not_be_measured():
    families = parse(F["dbl_baseline_prometheus"](record()))
    assert labelled(families, "deploy_baseline_part_measured", "part") == {
        "Application": 1, "Redis": 1, "Database": 1, "Public URL": 1, "Journal": 1, "Concurrency test": 1}
    unreachable = {"unreachable": True, "msg": "ssh: connect refused"}
    rec = record({s: unreachable for s in ("units", "journal", "redis", "postgres")} | {"load": {"skipped": True}},
                 color="", unreachable_reason="ssh: connect refused")
    parts = labelled(parse(F["dbl_baseline_prometheus"](rec)), "deploy_baseline_part_measured", "part")
    assert parts == {"Application": 0, "Redis": 0, "Database": 0, "Public URL": 1}


def test_a_part_that_answered_with_an_error_was_measured():
    down = {"changed": False, "redis": {"reachable": False, "error_kind": "refused",
                                         "error": "unable to connect to Redis at 127.0.0.1:6379: Connection refused"}}
    families = parse(F["dbl_baseline_prometheus"](record({"redis": down})))
    assert labelled(families, "deploy_baseline_part_measured", "part")["Redis"] == 1
    assert labelled(families, "deploy_baseline_verdict_status", "status")["critical"] == 1


def test_regressions_against_the_previous_baseline_per_figure():
    rec = record()
    slower = dict(rec["summary"], api_response_time_cold_ms=rec["summary"]["api_response_time_cold_ms"] / 2,
                  cache_hit_rate_pct=None)
    families = parse(F["dbl_baseline_prometheus"](record(history=[{"summary": slower,
                                                               "measured_at": "2026-11-28T18:16:00Z"}])))
    regressed = labelled(families, "deploy_baseline_figure_regressed", "figure")
    assert regressed["deploy_baseline_api_response_cold_seconds"] == 1
    assert regressed["deploy_baseline_app_memory_bytes"] == 0
    assert "deploy_baseline_cache_hit_ratio" not in regressed  # not measured before: nothing to compare
    assert set(regressed) <= set(metric_names())
    assert "deploy_baseline_figure_regressed" not in parse(F["dbl_baseline_prometheus"](record()))  # no history


def test_restarts_and_the_earliest_certificate_expiry():
    rec = record()
    families = parse(F["dbl_baseline_prometheus"](rec))
    assert only_value(families, "deploy_baseline_app_restarts") == rec["facts"]["unit"]["restarts"]
    expiry = {dict(labels)["via"]: value
              for labels, value in samples(families, "deploy_baseline_tls_cert_expiry_timestamp_seconds").items()}
    earliest = min(datetime.fromisoformat(e["tls"]["not_after"].replace("Z", "+00:00")).timestamp()
                   for e in rec["facts"]["http_public"] if (e.get("tls") or {}).get("not_after"))
    assert expiry == {"public": earliest}
    soon = [dict(e, tls=dict(e["tls"], not_after="2026-12-01T00:00:00Z")) if i == 1 else e
            for i, e in enumerate(rec["facts"]["http_public"])]
    families = parse(F["dbl_baseline_prometheus"](dict(rec, facts=dict(rec["facts"], http_public=soon))))
    assert only_value(families, "deploy_baseline_tls_cert_expiry_timestamp_seconds") == 1796083200


def test_max_age_is_written_when_given():
    assert "deploy_baseline_max_age_seconds" not in parse(F["dbl_baseline_prometheus"](record()))
    families = parse(F["dbl_baseline_prometheus"](record(), 3600))
    assert only_value(families, "deploy_baseline_max_age_seconds") == 3600


@pytest.mark.parametrize(("max_age", "message"), [
    (0, "dbl_baseline_prometheus: max_age_s must be a positive number, got 0"),
    (-5, "dbl_baseline_prometheus: max_age_s must be a positive number, got -5"),
    ("1d", "dbl_baseline_prometheus: max_age_s must be a finite number, got '1d'"),
])
def test_max_age_errors(max_age, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        F["dbl_baseline_prometheus"](record(), max_age)


def test_the_deploy_timestamp_is_the_switch_when_one_pointed_at_the_live_colour():
    switched = record({"switch": recorded("baseline_facts")["switch"]}, measured_at="2026-12-02T04:03:10Z")
    plain = record(measured_at="2026-12-02T04:03:10Z")
    deployed = {name: samples(parse(F["dbl_baseline_prometheus"](r)), "deploy_baseline_deploy_timestamp_seconds")
                for name, r in (("switched", switched), ("plain", plain))}
    labels = tuple(sorted(BASE_LABELS.items()))
    assert deployed["switched"] == {labels: datetime.fromisoformat("2026-12-02T04:02:59+00:00").timestamp()}
    assert deployed["plain"] == {labels: datetime.fromisoformat("2026-11-29T18:15:26+00:00").timestamp()}
