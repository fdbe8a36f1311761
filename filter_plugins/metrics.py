"""Filters that write a baseline record in Prometheus' text format, for node_exporter's textfile collector.

Names follow the Prometheus conventions: the ``deploy_baseline_`` prefix, the base unit in the
name (``_seconds``, ``_bytes``, ``_ratio`` for 0..1), a HELP and a TYPE line per family, and the
labels host, service, color and environment on every sample. Every family is a gauge: a baseline
is a reading taken once, not a counter that grows.

A figure that was not measured (null in the record) gets no sample, and a family without samples
is left out: in PromQL a missing series says "unknown", where a 0 would say "measured, zero".
Samples carry no timestamp (the textfile collector refuses them);
``deploy_baseline_last_run_timestamp_seconds`` says when the figures were taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from ansible.errors import AnsibleFilterError

PREFIX = "deploy_baseline_"
STATUSES = ("ok", "pending", "warning", "critical", "failed")


@dataclass(frozen=True)
class Figure:
    """How one summary figure of the record becomes a metric: its name, meaning and unit change."""

    key: str
    name: str
    help: str
    divisor: int = 1


SUMMARY_FIGURES = (
    Figure("api_response_time_cold_ms", "api_response_cold_seconds",
           "Mean cold response time of the endpoints that answered (new connection, every phase).", 1000),
    Figure("api_response_time_warm_ms", "api_response_warm_p50_seconds",
           "Mean of the endpoints' median warm response times (reused connection).", 1000),
    Figure("cache_hit_rate_pct", "cache_hit_ratio",
           "Redis keyspace hits per lookup since Redis started (0 to 1).", 100),
    Figure("cache_memory_bytes", "cache_memory_bytes", "Memory used by Redis."),
    Figure("app_memory_bytes", "app_memory_bytes", "Memory used by the live unit's processes."),
    Figure("app_cpu_avg_pct", "app_cpu_ratio",
           "CPU used by the live unit on average since it started, in CPUs (1 is one CPU busy).", 100),
    Figure("uptime_s", "app_uptime_seconds", "Time since the live unit started."),
    Figure("error_count", "journal_errors", "Errors in the live unit's journal since it started."),
)

ENDPOINT_FIGURES = (
    ("cold", "total_ms", "endpoint_cold_seconds", "Response time of the endpoint's cold request (new connection)."),
    ("warm", "p50_ms", "endpoint_warm_p50_seconds", "Median response time of the endpoint's warm requests."),
    ("warm", "p95_ms", "endpoint_warm_p95_seconds", "95th percentile response time of the endpoint's warm requests."),
)

# Where the endpoints were probed from, as the value of the "via" label.
PROBES = (("http_public", "public"), ("http_local", "local"))


def _epoch_seconds(when, what):
    try:
        moment = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    except ValueError as exc:
        raise AnsibleFilterError(f"baseline_prometheus: {what} is not an ISO 8601 time: {when!r}") from exc
    if moment.tzinfo is None:
        raise AnsibleFilterError(f"baseline_prometheus: {what} has no time zone: {when!r}")
    return int(moment.timestamp())


def _value(value, divisor, what):
    """A figure in its base unit, as the text format writes it; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AnsibleFilterError(f"baseline_prometheus: {what} must be a finite number, got {value!r}")
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


def _family(name, help_text, samples):
    """HELP, TYPE and sample lines of one gauge; nothing when no sample has a value."""
    lines = [f"{PREFIX}{name}{_labels(labels)} {value}" for labels, value in samples if value is not None]
    if not lines:
        return []
    return [f"# HELP {PREFIX}{name} {_escape_help(help_text)}", f"# TYPE {PREFIX}{name} gauge", *lines]


def _endpoints(facts):
    """(via, endpoint) for every endpoint result of the public and the local probe."""
    found = []
    for section, via in PROBES:
        results = facts.get(section)
        if isinstance(results, list):
            found.extend((via, e) for e in results if isinstance(e, dict) and e.get("name"))
    return found


def baseline_prometheus(record):
    """A baseline record (schemas/baseline.schema.json) as Prometheus text exposition format."""
    if not isinstance(record, dict) or not isinstance(record.get("summary"), dict):
        raise AnsibleFilterError("baseline_prometheus: expected a baseline record with a summary")
    missing = [k for k in ("host", "service", "environment", "measured_at") if not record.get(k)]
    if missing:
        raise AnsibleFilterError(f"baseline_prometheus: the record has no {', '.join(missing)}")
    base = (("host", record["host"]), ("service", record["service"]), ("color", record.get("color") or ""),
            ("environment", record["environment"]))
    summary = record["summary"]
    status = (record.get("verdict") or {}).get("status")
    if status not in STATUSES:
        raise AnsibleFilterError(f"baseline_prometheus: unknown verdict status {status!r}; expected one of "
                                 f"{', '.join(STATUSES)}")

    lines = _family("last_run_timestamp_seconds", "When the baseline was measured, in seconds since the epoch.",
                    [(base, str(_epoch_seconds(record["measured_at"], "measured_at")))])
    if record.get("deployed_at"):
        lines += _family("deploy_timestamp_seconds", "When the live unit started, in seconds since the epoch.",
                         [(base, str(_epoch_seconds(record["deployed_at"], "deployed_at")))])
    lines += _family("host_reachable", "1 when the host could be reached over SSH, 0 when it could not.",
                     [(base, "1" if record.get("reachable") else "0")])
    lines += _family("verdict_status",
                     "Overall verdict of the baseline: 1 for its status, 0 for the others.",
                     [((*base, ("status", s)), "1" if s == status else "0") for s in STATUSES])
    for figure in SUMMARY_FIGURES:
        lines += _family(figure.name, figure.help,
                         [(base, _value(summary.get(figure.key), figure.divisor, f"summary.{figure.key}"))])
    exact = (record.get("journal") or {}).get("exact")
    if exact is not None and summary.get("error_count") is not None:
        lines += _family("journal_errors_exact",
                         "1 when deploy_baseline_journal_errors counts the whole journal since the start, 0 when "
                         "the time limit cut the reading and it is a lower bound.",
                         [(base, "1" if exact else "0")])

    endpoints = _endpoints(record.get("facts") or {})
    lines += _family("endpoint_ok", "1 when the endpoint answered with an expected status, else 0.",
                     [((*base, ("endpoint", e["name"]), ("via", via)), "1" if e.get("ok") else "0")
                      for via, e in endpoints])
    for phase, key, name, help_text in ENDPOINT_FIGURES:
        # A failed request's time says nothing about the service's latency: only answered endpoints count.
        lines += _family(name, help_text, [
            ((*base, ("endpoint", e["name"]), ("via", via)),
             _value((e.get(phase) or {}).get(key) if e.get("ok") else None, 1000, f"{e['name']} {phase}.{key}"))
            for via, e in endpoints])
    return "\n".join(lines) + "\n"


def prometheus_path(path, report_dir, dest):
    """Where the metrics file goes: an absolute path as it is; a relative one beside the host's reports.

    dest is controller or host; on the host the path must be absolute (there is no report folder there).
    """
    if dest not in ("controller", "host"):
        raise AnsibleFilterError(f"prometheus_path: dest must be controller or host, not {dest!r}")
    if not isinstance(path, str) or not path:
        raise AnsibleFilterError("prometheus_path: expected the metrics file as a non-empty string")
    if path.startswith("/"):
        return path
    if dest == "host":
        raise AnsibleFilterError(
            f"prometheus_path: a metrics file on the host needs an absolute path (node_exporter's textfile "
            f"directory, e.g. /var/lib/prometheus/node-exporter/deploy_baseline.prom), got {path!r}")
    return f"{report_dir.rstrip('/')}/{path}"


class FilterModule:
    def filters(self):
        return {
            "baseline_prometheus": baseline_prometheus,
            "prometheus_path": prometheus_path,
        }
