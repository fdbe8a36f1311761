"""Filters that write a baseline record in Prometheus' text format, for node_exporter's textfile collector.

Names follow the Prometheus conventions: the ``deploy_baseline_`` prefix, the base unit in the
name (``_seconds``, ``_bytes``, ``_ratio`` for 0..1), a HELP and a TYPE line per family, and the
labels host, service, color and environment on every sample. Every family is a gauge: a baseline
is a reading taken once, not a counter that grows.

A figure that was not measured (null in the record) gets no sample, and a family without samples
is left out: in PromQL a missing series says "unknown", where a 0 would say "measured, zero".
Samples carry no timestamp (the textfile collector refuses them);
``deploy_baseline_last_run_timestamp_seconds`` says when the figures were taken.

``metric_names()`` lists every family the export can write: the alert rules (prometheus/) and the
Grafana dashboard (grafana/) are checked against it (tests/unit/test_prometheus_rules.py).
"""

from __future__ import annotations

import math
import runpy
from datetime import datetime
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The project's module_utils, importable here as in the modules Ansible sends to a host.
runpy.run_path(str(Path(__file__).resolve().parents[1] / "module_utils" / "on_controller.py"))

from ansible.module_utils.baseline_catalogue import CATALOGUE
from ansible.module_utils.baseline_record import SEVERITY_ORDER as STATUSES
from ansible.module_utils.baseline_record import UNSTATUSED_PARTS

PREFIX = "deploy_baseline_"


# Every family but the summary figures (module_utils/baseline_catalogue.py) and the endpoint figures:
# name (without the prefix) -> HELP.
FAMILIES = {
    "last_run_timestamp_seconds": "When the baseline was measured, in seconds since the epoch.",
    "max_age_seconds": "How old the baseline may get before the next one is overdue (its schedule and a margin).",
    "deploy_timestamp_seconds": "When the live colour began to take traffic (its last blue/green switch or "
                                "rollback), else when the live unit started, in seconds since the epoch.",
    "host_reachable": "1 when the host could be reached over SSH, 0 when it could not.",
    "verdict_status": "Overall verdict of the baseline: 1 for its status, 0 for the others.",
    "part_measured": "1 when the part (Application, Redis, ...) could be measured, 0 when it could not.",
    "figure_regressed": "1 when the summary figure regressed against the previous baseline beyond the noise "
                         "(baseline_noise_pct), else 0; figure names its metric.",
    "journal_errors_exact": "1 when deploy_baseline_journal_errors counts the whole journal since the start, 0 when "
                            "the time limit cut the reading and it is a lower bound.",
    "app_restarts": "How many times systemd restarted the live unit automatically since it was started (NRestarts).",
    "tls_cert_expiry_timestamp_seconds": "When the earliest TLS certificate the endpoints presented expires "
                                         "(notAfter), in seconds since the epoch.",
    "endpoint_ok": "1 when the endpoint answered with an expected status, else 0.",
}

ENDPOINT_FIGURES = (
    ("cold", "total_ms", "endpoint_cold_seconds", "Response time of the endpoint's cold request (new connection)."),
    ("warm", "p50_ms", "endpoint_warm_p50_seconds", "Median response time of the endpoint's warm requests."),
    ("warm", "p95_ms", "endpoint_warm_p95_seconds", "95th percentile response time of the endpoint's warm requests."),
)

# Where the endpoints were probed from, as the value of the "via" label.
PROBES = (("http_public", "public"), ("http_local", "local"))


def metric_names():
    """Every metric name the export can write, with its prefix."""
    names = [*FAMILIES, *(m.prometheus_name for m in CATALOGUE), *(name for _, _, name, _ in ENDPOINT_FIGURES)]
    return [PREFIX + name for name in names]


def _epoch_seconds(when, what):
    try:
        moment = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError as exc:
        raise AnsibleFilterError(f"dbl_baseline_prometheus: {what} is not an ISO 8601 time: {when!r}") from exc
    if moment.tzinfo is None:
        raise AnsibleFilterError(f"dbl_baseline_prometheus: {what} has no time zone: {when!r}")
    return int(moment.timestamp())


def _value(value, divisor, what):
    """A figure in its base unit, as the text format writes it; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AnsibleFilterError(f"dbl_baseline_prometheus: {what} must be a finite number, got {value!r}")
    if divisor == 1:
        return str(value)
    # Rounded so that ms and % turn into the decimals they stand for (8.924 ms -> 0.008924).
    return repr(round(value / divisor, 9))


def _escape_label(value):
    return str(value).replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def _escape_help(text):
    return text.replace("\\", r"\\").replace("\n", r"\n")


def _labels(labels):
    return "{" + ",".join(f'{name}="{_escape_label(value)}"' for name, value in labels) + "}"


def _family(name, samples, help_text=None):
    """HELP, TYPE and sample lines of one gauge; nothing when no sample has a value."""
    lines = [f"{PREFIX}{name}{_labels(labels)} {value}" for labels, value in samples if value is not None]
    if not lines:
        return []
    return [f"# HELP {PREFIX}{name} {_escape_help(help_text or FAMILIES[name])}", f"# TYPE {PREFIX}{name} gauge",
            *lines]


def _endpoints(facts):
    """(via, endpoint) for every endpoint result of the public and the local probe."""
    found = []
    for section, via in PROBES:
        results = facts.get(section)
        if isinstance(results, list):
            found.extend((via, e) for e in results if isinstance(e, dict) and e.get("name"))
    return found


def _parts_measured(record):
    """(part, 1 or 0) of each part the baseline measured or tried to; a failed part was not measured."""
    parts = [(name, "0" if (part or {}).get("status") == "failed" else "1")
             for name, part in (record.get("status") or {}).items()]
    facts, problems = record.get("facts") or {}, record.get("problems") or {}
    for key, name in UNSTATUSED_PARTS.items():
        if facts.get(key):
            parts.append((name, "1"))
        elif key in problems:
            parts.append((name, "0"))
    return parts


def _regressions(record):
    """(metric, 1 or 0) of each summary figure compared with the previous baseline (both measured)."""
    names = {m.key: PREFIX + m.prometheus_name for m in CATALOGUE}
    rows = (record.get("comparison") or {}).get("rows") or []
    return [(names[r["metric"]], "1" if r.get("regression") else "0")
            for r in rows if r.get("metric") in names and r.get("delta_pct") is not None]


def _certificate_expiry(endpoints):
    """(via, earliest notAfter in epoch seconds) of each probe whose endpoints presented a certificate."""
    earliest = {}
    for via, e in endpoints:
        not_after = (e.get("tls") or {}).get("not_after")
        if not_after:
            when = _epoch_seconds(not_after, f"{e['name']} tls.not_after")
            earliest[via] = min(when, earliest.get(via, when))
    return sorted(earliest.items())


def baseline_prometheus(record, max_age_s=None):
    """A baseline record (schemas/baseline.schema.json) as Prometheus text exposition format.

    max_age_s: how old the baseline may get before the next one is overdue, exported for the
    stale-baseline alert; None writes no such metric.
    """
    if not isinstance(record, dict) or not isinstance(record.get("summary"), dict):
        raise AnsibleFilterError("dbl_baseline_prometheus: expected a baseline record with a summary")
    missing = [k for k in ("host", "service", "environment", "measured_at") if not record.get(k)]
    if missing:
        raise AnsibleFilterError(f"dbl_baseline_prometheus: the record has no {', '.join(missing)}")
    if max_age_s is not None and not (_value(max_age_s, 1, "max_age_s") and max_age_s > 0):
        raise AnsibleFilterError(f"dbl_baseline_prometheus: max_age_s must be a positive number, got {max_age_s!r}")
    base = (("host", record["host"]), ("service", record["service"]), ("color", record.get("color") or ""),
            ("environment", record["environment"]))
    summary = record["summary"]
    status = (record.get("verdict") or {}).get("status")
    if status not in STATUSES:
        raise AnsibleFilterError(f"dbl_baseline_prometheus: unknown verdict status {status!r}; expected one of "
                                 f"{', '.join(STATUSES)}")
    facts = record.get("facts") or {}
    endpoints = _endpoints(facts)

    lines = _family("last_run_timestamp_seconds", [(base, str(_epoch_seconds(record["measured_at"], "measured_at")))])
    lines += _family("max_age_seconds", [(base, _value(max_age_s, 1, "max_age_s"))])
    if record.get("deployed_at"):
        deployed = _epoch_seconds(record["deployed_at"], "deployed_at")
        lines += _family("deploy_timestamp_seconds", [(base, str(deployed))])
    lines += _family("host_reachable", [(base, "1" if record.get("reachable") else "0")])
    lines += _family("verdict_status", [((*base, ("status", s)), "1" if s == status else "0") for s in STATUSES])
    lines += _family("part_measured", [((*base, ("part", part)), value) for part, value in _parts_measured(record)])
    for metric in CATALOGUE:
        value = _value(summary.get(metric.key), metric.prometheus_divisor, f"summary.{metric.key}")
        lines += _family(metric.prometheus_name, [(base, value)], metric.prometheus_help)
    lines += _family("figure_regressed", [((*base, ("figure", name)), value) for name, value in _regressions(record)])
    exact = (record.get("journal") or {}).get("exact")
    if exact is not None and summary.get("error_count") is not None:
        lines += _family("journal_errors_exact", [(base, "1" if exact else "0")])
    restarts = (facts.get("unit") or {}).get("restarts")
    lines += _family("app_restarts", [(base, _value(restarts, 1, "unit.restarts"))])
    lines += _family("tls_cert_expiry_timestamp_seconds",
                     [((*base, ("via", via)), str(when)) for via, when in _certificate_expiry(endpoints)])

    lines += _family("endpoint_ok", [((*base, ("endpoint", e["name"]), ("via", via)), "1" if e.get("ok") else "0")
                                     for via, e in endpoints])
    for phase, key, name, help_text in ENDPOINT_FIGURES:
        # A failed request's time says nothing about the service's latency: only answered endpoints count.
        lines += _family(name, [
            ((*base, ("endpoint", e["name"]), ("via", via)),
             _value((e.get(phase) or {}).get(key) if e.get("ok") else None, 1000, f"{e['name']} {phase}.{key}"))
            for via, e in endpoints], help_text)
    return "\n".join(lines) + "\n"


def prometheus_path(path, report_dir, dest):
    """Where the metrics file goes: an absolute path as it is; a relative one beside the host's reports.

    dest is controller or host; on the host the path must be absolute (there is no report folder there).
    """
    if dest not in ("controller", "host"):
        raise AnsibleFilterError(f"dbl_prometheus_path: dest must be controller or host, not {dest!r}")
    if not isinstance(path, str) or not path:
        raise AnsibleFilterError("dbl_prometheus_path: expected the metrics file as a non-empty string")
    if path.startswith("/"):
        return path
    if dest == "host":
        raise AnsibleFilterError(
            f"dbl_prometheus_path: a metrics file on the host needs an absolute path (node_exporter's textfile "
            f"directory, e.g. /var/lib/prometheus/node-exporter/deploy_baseline.prom), got {path!r}")
    return f"{report_dir.rstrip('/')}/{path}"


class FilterModule:
    def filters(self):
        return {
            "dbl_baseline_prometheus": baseline_prometheus,
            "dbl_prometheus_path": prometheus_path,
        }
