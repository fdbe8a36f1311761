"""A service's report: the app hosts that run one service in one environment, judged together. Pure,
standard library only.

From the fleet summary's rows (baseline_record.baseline_fleet: this run's records and the other
hosts' latest baselines) and the service each host of the inventory runs, service_reports makes a
report for each service that runs on several hosts: a row per host, the service's figure of each
summary figure, made of its hosts' values as the catalogue says (module_utils/baseline_catalogue.py,
across_hosts) over the hosts that measured it, saying how many did, and one verdict that names the
hosts at fault and why. A host with no baseline, or that did not measure a figure, is left out of
that figure and named; it never counts as 0. Bad input raises RecordError, which the filter
(filter_plugins/baseline.py, dbl_service_reports) turns into an AnsibleFilterError naming itself.
"""

from __future__ import annotations

from ansible.module_utils.baseline_catalogue import CATALOGUE
from ansible.module_utils.baseline_record import SEVERITY_ORDER, VERDICT_TEXT, RecordError

AT_FAULT = ("warning", "critical", "failed")


def _sum(measured):
    return round(sum(value for _, value in measured), 3), None


def _mean(measured):
    return round(sum(value for _, value in measured) / len(measured), 3), None


def _highest(measured):
    host, value = max(measured, key=lambda pair: pair[1])  # ties: the first host, by name
    return value, host


def _lowest(measured):
    host, value = min(measured, key=lambda pair: pair[1])
    return value, host


# Each way of the catalogue's ACROSS_HOSTS (tests/unit/test_service.py checks they are the same),
# over [(host, value)] of the hosts that measured the figure (never empty): (value, the host that
# has it, for the highest and the lowest).
AGGREGATES = {"sum": _sum, "mean": _mean, "max": _highest, "min": _lowest}


def _figure(metric, rows):
    """The service's figure of one summary figure: each of its ways across the hosts that measured it."""
    kept = [row for row in rows if "missing" not in row]
    measured = [(row["host"], row["summary"].get(metric.key)) for row in kept
                if row["summary"].get(metric.key) is not None]
    not_measured = [row["host"] for row in kept if row["summary"].get(metric.key) is None]
    no_baseline = [row["host"] for row in rows if "missing" in row]
    bounds = [f"{row['host']}: {row['lower_bounds'][metric.key]}" for row in kept
              if row["summary"].get(metric.key) is not None and metric.key in row.get("lower_bounds", {})]
    covers = f"{len(measured)} of {len(rows)} hosts"
    if not_measured:
        covers += f"; not measured on {', '.join(not_measured)}"
    if no_baseline:
        covers += f"; no baseline of {', '.join(no_baseline)}"
    values = []
    for how in metric.across_hosts:
        value, host = AGGREGATES[how](measured) if measured else (None, None)
        values.append({"how": how, "value": value, "host": host})
    return {
        "metric": metric.key, "label": metric.label, "values": values,
        "measured": len(measured), "hosts": len(rows), "not_measured": not_measured, "no_baseline": no_baseline,
        "covers": covers,
        # A value that is only a lower bound makes every way across the hosts one too.
        "lower_bound": "; ".join(bounds) or None,
    }


def _fault(row):
    """{host, status, reasons} of a row of the fleet summary: why the host stands as it does."""
    if "missing" in row:
        return {"host": row["host"], "status": "failed", "reasons": [row["missing"]]}
    status = row.get("status")
    if status not in SEVERITY_ORDER:
        return {"host": row["host"], "status": "failed",
                "reasons": [f"its baseline of {row.get('measured_at')} holds no verdict"]}
    reasons = row.get("reasons")
    if reasons is None:
        reasons = [f"{VERDICT_TEXT[status]} (its baseline of {row.get('measured_at')} does not say why)"]
    return {"host": row["host"], "status": status, "reasons": list(reasons)}


def _verdict(rows):
    """The service's verdict: its worst host's status, the hosts at that status and why; every
    host at fault (warning or worse), the worst first."""
    standing = [_fault(row) for row in rows]
    worst = max((f["status"] for f in standing), key=SEVERITY_ORDER.index)
    faults = sorted((f for f in standing if f["status"] in AT_FAULT),
                    key=lambda f: (-SEVERITY_ORDER.index(f["status"]), f["host"]))
    named = [f for f in faults if f["status"] == worst]
    if named:
        summary = f"{worst}: " + "; ".join(f"{f['host']} — {'; '.join(f['reasons'])}" for f in named)
    else:
        summary = f"{worst}: none of the {len(rows)} hosts at fault"
    return {"status": worst, "text": VERDICT_TEXT[worst], "summary": summary,
            "hosts": [f["host"] for f in named], "faults": faults}


def _service(row, member):
    """(environment, service) of a host: those its baseline names (this run's, or its latest), else the inventory's."""
    named = (row.get("environment"), row.get("service"))
    if "missing" not in row and all(isinstance(name, str) and name for name in named):
        return named
    if not isinstance(member, dict) or not all(isinstance(member.get(k), str) and member[k]
                                               for k in ("environment", "service")):
        raise RecordError(f"expected the environment and the service of {row['host']} as strings, got {member!r}")
    return member["environment"], member["service"]


def service_reports(fleet, members, built_at=None):
    """{"<environment>/<service>": report} for each service that runs on more than one host of the fleet.

    fleet: baseline_fleet's result (a row per host of the fleet). members: {host: {environment,
    service, public_url}}, as the inventory gives them. A host belongs to the service its baseline
    names (this run's record, or its latest baseline), and a host with no baseline to the one the
    inventory gives it; the public URLs are the inventory's. A report is
    {environment, service, public_urls, built_at, hosts, with_baseline, this_run, rows, figures,
    verdict}: rows are the fleet's rows of its hosts; figures, one per summary figure in the
    catalogue's order, {metric, label, values: [{how, value, host}], measured, hosts,
    not_measured, no_baseline, covers, lower_bound}; verdict {status, text, summary, hosts, faults}.
    """
    if not isinstance(fleet, dict) or not isinstance(fleet.get("rows"), list):
        raise RecordError("expected the fleet summary (baseline_fleet) as a dict with rows")
    if not isinstance(members, dict):
        raise RecordError("expected the hosts' services as a dict: {host: {environment, service, public_url}}")
    services = {}
    for row in fleet["rows"]:
        if not isinstance(row, dict) or not row.get("host"):
            raise RecordError(f"expected the fleet summary's rows, got {row!r}")
        member = members.get(row["host"])
        services.setdefault(_service(row, member), []).append((row, member or {}))
    reports = {}
    for (environment, service), hosts in sorted(services.items()):
        if len(hosts) < 2:
            continue
        own = sorted((row for row, _ in hosts), key=lambda row: row["host"])
        reports[f"{environment}/{service}"] = {
            "environment": environment, "service": service,
            "public_urls": sorted({m["public_url"] for _, m in hosts if m.get("public_url")}),
            "built_at": built_at,
            "hosts": len(own), "with_baseline": sum("missing" not in row for row in own),
            "this_run": sum(bool(row.get("this_run")) for row in own),
            "rows": own,
            "figures": [_figure(metric, own) for metric in CATALOGUE],
            "verdict": _verdict(own),
        }
    return reports
