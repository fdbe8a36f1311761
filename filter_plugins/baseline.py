"""Filters the baseline role's templates need: figures made readable, verdicts, comparisons.

Data flows one way: the fact modules measure on the target, these filters compute on the
controller, the templates only place what they return. Every filter is pure.
"""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The project's module_utils, importable here as in the modules Ansible sends to a host: the live
# colour and the endpoints under a URL, as the baseline_facts module reads them.
runpy.run_path(str(Path(__file__).resolve().parents[1] / "module_utils" / "on_controller.py"))

from ansible.module_utils import (
    baseline_catalogue,
    baseline_datastores,
    baseline_live,
    baseline_nginx,
    baseline_service,
)
from ansible.module_utils import baseline_record as records
from ansible.module_utils.baseline_catalogue import METRICS

MARKS = {"ok": "✅", "warning": "⚠️", "pending": "⏳", "critical": "❌", "failed": "❌"}


def _number(value, name, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnsibleFilterError(f"{name}: expected a number, got {type(value).__name__} {value!r}")
    return value


def human_bytes(value):
    """1536 -> '1.5 KiB'; None -> 'n/a'."""
    return baseline_catalogue.human_bytes(_number(value, "dbl_human_bytes"))


def human_duration(value):
    """Seconds as a person says them: 420 -> '7 min', 93784 -> '1 d 2 h'; None -> 'n/a'."""
    return baseline_catalogue.human_duration(_number(value, "dbl_human_duration"))


def human_pct(value, digits=1):
    """12.345 -> '12.3 %'; None -> 'n/a'."""
    return baseline_catalogue.human_pct(_number(value, "dbl_human_pct"), digits)


def human_ms(value, digits=1):
    """12.345 -> '12.3 ms'; None -> 'n/a'."""
    return baseline_catalogue.human_ms(_number(value, "dbl_human_ms"), digits)


def status_mark(status):
    """ok / warning / pending / critical / failed -> ✅ ⚠️ ⏳ ❌."""
    if status not in MARKS:
        raise AnsibleFilterError(f"dbl_status_mark: unknown status {status!r}; expected one of {sorted(MARKS)}")
    return MARKS[status]


def delta_pct(current, previous):
    """Change from previous to current in %, None when either is missing or previous is 0."""
    return baseline_catalogue.delta_pct(_number(current, "dbl_delta_pct"), _number(previous, "dbl_delta_pct"))


def human_metric(value, metric):
    """A summary figure in the unit its metric is read in."""
    if metric not in METRICS:
        raise AnsibleFilterError(f"dbl_human_metric: unknown metric {metric!r}")
    return baseline_catalogue.human_metric(_number(value, "dbl_human_metric"), metric)


def _domain(name, function, *args):
    """function(*args), a function of the domain (module_utils/baseline_record.py, baseline_service.py);
    its RecordError becomes an AnsibleFilterError naming the filter."""
    try:
        return function(*args)
    except records.RecordError as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from exc


def judge_thresholds(summary, thresholds, pending_reasons=None, lower_bounds=None):
    """One verdict per threshold ({metric: {max|min|equals: X, severity}}): ok / warning / critical / pending."""
    return _domain("dbl_judge_thresholds", records.judge_thresholds, summary, thresholds, pending_reasons, lower_bounds)


def missed_thresholds(verdicts, severity="critical"):
    """The verdicts that missed at the given severity or worse."""
    return _domain("dbl_missed_thresholds", records.missed_thresholds, verdicts, severity)


def gate_reasons(record, severity="critical"):
    """Why a baseline record fails the gate at a severity, one line each; empty when it passes."""
    return _domain("dbl_gate_reasons", records.gate_reasons, record, severity)


def compare_baselines(summary, earlier, noise_pct=10.0, min_baselines=1):
    """Per summary figure: previous, current, delta %, and whether it regressed beyond its noise."""
    return _domain("dbl_compare_baselines", records.compare_baselines, summary, earlier, noise_pct, min_baselines)


def metric_trend(history, metric):
    """Values of one summary figure over a list of baselines (oldest first), with min / max / last."""
    return _domain("dbl_metric_trend", records.metric_trend, history, metric)


def journal_count(count, reading):
    """An error count as the report shows it: "812", or "at least 812" when the reading was cut."""
    return _domain("dbl_journal_count", records.journal_count, count, reading)


def journal_bound(reading):
    """The words after a count that is a lower bound, " (why)"; "" when the reading was exact."""
    return _domain("dbl_journal_bound", records.journal_bound, reading)


def known_issues_catalogue(entries, extra=None):
    """The catalogue of known issues: the file's entries and an inventory's, the latter first and replacing."""
    return _domain("dbl_known_issues_catalogue", records.known_issues_catalogue, entries, extra)


def match_known_issues(groups, catalogue):
    """Journal error groups split into known issues (matched by the catalogue) and new ones."""
    return _domain("dbl_match_known_issues", records.match_known_issues, groups, catalogue)


def minutes_since(then, now):
    """Whole minutes from an ISO 8601 time to another; None when either is missing."""
    return records.minutes_since(then, now)


def add_days(when, days):
    """An ISO 8601 time plus N days, as an ISO 8601 date."""
    return records.add_days(when, days)


def baseline_record(results, context):
    """The whole baseline of one host from its registered module results and the run's context."""
    return _domain("dbl_baseline_record", records.baseline_record, results, context)


def baseline_fleet(hosts, measured, earlier, folder=""):
    """The fleet summary's rows, one per host of the fleet (sorted), whichever job measured it."""
    return _domain("dbl_baseline_fleet", records.baseline_fleet, hosts, measured, earlier, folder)


def service_reports(fleet, inventory, defaults, built_at=None):
    """{"<environment>/<service>": report} for each service of several hosts: rows, the service's figures, one verdict.

    inventory: {host: its variables} (hostvars) of every host of the fleet; defaults: {environment,
    service, public_url}, what a host whose inventory sets no baseline_<name> runs with (the play's).
    """
    if not isinstance(inventory, Mapping) or not isinstance(defaults, Mapping):
        raise AnsibleFilterError("dbl_service_reports: expected the hosts' variables and the defaults as dicts")
    members = {host: {name: variables.get(f"baseline_{name}", defaults.get(name))
                      for name in ("environment", "service", "public_url")}
               for host, variables in inventory.items()}
    return _domain("dbl_service_reports", baseline_service.service_reports, fleet, members, built_at)


def datastore_hosts(hosts, hostvars, inventory):
    """{datastore host: {Redis|Database: [app hosts]}}: the inventory hosts that hosts name in their
    baseline_redis_inventory_host / baseline_db_inventory_host (read from hostvars: the inventory's
    and extra variables), each a datastore host, measured as such and not as an app host."""
    if not isinstance(hosts, list):
        raise AnsibleFilterError("dbl_datastore_hosts: expected the hosts as a list")
    named = {host: {"Redis": hostvars[host].get("baseline_redis_inventory_host") or "",
                    "Database": hostvars[host].get("baseline_db_inventory_host") or ""} for host in hosts}
    return _domain("dbl_datastore_hosts", baseline_datastores.datastore_hosts, named, inventory)


def datastore_host_record(result, context):
    """The record of a datastore host from datastore_host_facts' registered result and the run's context."""
    return _domain("dbl_datastore_host_record", baseline_datastores.datastore_host_record, result, context)


def datastore_readings(settings, stamp):
    """Per datastore of an app host: where its figures were read from, and its host's units and report."""
    return _domain("dbl_datastore_readings", baseline_datastores.datastore_readings, settings, stamp)


def error_headline(sample):
    """The line of a multi-line error that names it: a traceback's exception, else the first line."""
    if not isinstance(sample, str):
        raise AnsibleFilterError("dbl_error_headline: expected the error text as a string")
    lines = [line.strip() for line in sample.splitlines() if line.strip()]
    if not lines:
        return ""
    headline = lines[-1] if any(line.startswith("Traceback") for line in lines) else lines[0]
    return headline if len(headline) <= 160 else headline[:159] + "…"


def upstream_live(text, color_ports, service=""):
    """{color, reason}: the colour nginx's upstream include sends the service's traffic to, or
    (color '') the reason it names no single colour, from nginx's syntax (module_utils/baseline_nginx.py).

    color_ports maps each colour to its port on the loopback or to its address (HOST:PORT, unix:PATH).
    """
    if not isinstance(color_ports, dict):
        raise AnsibleFilterError("dbl_upstream_live: expected the colour ports as a dict")
    color, reason = baseline_nginx.live_color(text, color_ports, service)
    return {"color": color, "reason": reason}


def upstream_color(text, color_ports, service=""):
    """The colour nginx's upstream include sends the service's traffic to; '' when it names no single one."""
    if not isinstance(color_ports, dict):
        raise AnsibleFilterError("dbl_upstream_color: expected the colour ports as a dict")
    return baseline_nginx.live_color(text, color_ports, service)[0]


def endpoints_under(endpoints, base_url):
    """The role's endpoints ({name, path, ...}) as http_probe endpoints under a base URL."""
    if not isinstance(endpoints, list):
        raise AnsibleFilterError("dbl_endpoints_under: expected the endpoints as a list")
    return baseline_live.endpoints_under(endpoints, base_url)


class FilterModule:
    def filters(self):
        return {
            "dbl_human_bytes": human_bytes,
            "dbl_human_duration": human_duration,
            "dbl_human_pct": human_pct,
            "dbl_human_ms": human_ms,
            "dbl_status_mark": status_mark,
            "dbl_delta_pct": delta_pct,
            "dbl_human_metric": human_metric,
            "dbl_baseline_fleet": baseline_fleet,
            "dbl_service_reports": service_reports,
            "dbl_judge_thresholds": judge_thresholds,
            "dbl_missed_thresholds": missed_thresholds,
            "dbl_gate_reasons": gate_reasons,
            "dbl_compare_baselines": compare_baselines,
            "dbl_metric_trend": metric_trend,
            "dbl_match_known_issues": match_known_issues,
            "dbl_known_issues_catalogue": known_issues_catalogue,
            "dbl_journal_count": journal_count,
            "dbl_journal_bound": journal_bound,
            "dbl_minutes_since": minutes_since,
            "dbl_error_headline": error_headline,
            "dbl_add_days": add_days,
            "dbl_upstream_color": upstream_color,
            "dbl_upstream_live": upstream_live,
            "dbl_endpoints_under": endpoints_under,
            "dbl_baseline_record": baseline_record,
            "dbl_datastore_hosts": datastore_hosts,
            "dbl_datastore_host_record": datastore_host_record,
            "dbl_datastore_readings": datastore_readings,
        }
