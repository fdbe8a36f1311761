"""Filters of the blue/green checks: the pre-switch gate and the post-switch verification.

Each returns {passed, checks: [{name, ok, detail}], reasons: [detail of each failed check]}, so a
verdict always carries the reasons a person reads.
"""

from __future__ import annotations

import json
import re
import runpy
from pathlib import Path

from ansible.errors import AnsibleFilterError

# The project's module_utils, importable here as in the modules Ansible sends to a host.
runpy.run_path(str(Path(__file__).resolve().parents[1] / "module_utils" / "on_controller.py"))

from ansible.module_utils import baseline_nginx


def _verdict(checks):
    return {"passed": all(c["ok"] for c in checks), "checks": checks,
            "reasons": [c["detail"] for c in checks if not c["ok"]]}


def _check(name, ok, detail_ok, detail_failed):
    return {"name": name, "ok": bool(ok), "detail": detail_ok if ok else detail_failed}


def other_color(live, colors):
    """The colour of the pair that is not live."""
    others = [c for c in colors if c != live]
    if live not in colors or len(others) != 1:
        raise AnsibleFilterError(
            f"dbl_other_color: cannot tell the candidate from live colour {live!r} and {list(colors)}")
    return others[0]


def bluegreen_gate_endpoints(latency_paths, candidate_base, live_base, health_path, openapi_path):
    """The http_probe endpoints of the gate, named as dbl_bluegreen_gate reads them."""
    if not isinstance(latency_paths, list):
        raise AnsibleFilterError("dbl_bluegreen_gate_endpoints: expected the latency paths as a list")
    return ([{"name": "candidate:health", "url": candidate_base + health_path, "return_body": True,
              "status_code": [200]},
             {"name": "candidate:openapi", "url": candidate_base + openapi_path, "return_body": True}]
            + [{"name": f"candidate:{p}", "url": candidate_base + p} for p in latency_paths]
            + [{"name": f"live:{p}", "url": live_base + p} for p in latency_paths])


def switch_upstream(text, color_ports, from_color, to_color, service=""):
    """nginx's upstream include with the service's traffic moved from one colour to the other.

    Edits nginx's tokens, not lines (module_utils/baseline_nginx.py switch): the selector of an
    upstream (a proxy_pass, a map's default) names the other colour's upstream, or the two colours'
    addresses swap places so each keeps the other's flags; the rest of the file is kept.
    """
    if not isinstance(color_ports, dict):
        raise AnsibleFilterError("dbl_switch_upstream: expected the colour ports as a dict")
    try:
        return baseline_nginx.switch(text or "", color_ports, from_color, to_color, service)
    except ValueError as e:
        raise AnsibleFilterError(f"dbl_switch_upstream: unable to switch from {from_color} to {to_color}: {e}") from e


def _body_json(probe):
    """The JSON body an http_probe endpoint returned (return_body), or None."""
    try:
        body = json.loads((probe or {}).get("body") or "")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _named(probes, prefix):
    return [p for p in probes if str(p.get("name", "")).startswith(prefix)]


def _new_error_groups(candidate_groups, live_groups, catalogue):
    known = {g.get("fingerprint") for g in live_groups}
    return [g for g in candidate_groups
            if g.get("fingerprint") not in known
            and not any(re.search(c["pattern"], g.get("sample", ""), re.MULTILINE) for c in catalogue)]


def _p50(probes):
    values = [(p.get("warm") or {}).get("p50_ms") for p in probes or [] if p.get("ok")]
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 3) if values else None


def _rule_number(rules, key, default):
    """A number of the rules, also when it came as text (`-e bluegreen_latency_margin_ms=50`): role
    argument specs check such a value but leave it a string."""
    value = rules.get(key, default)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"bluegreen: {key} must be a number, got {value!r}") from None
    return int(number) if number.is_integer() else number


def bluegreen_gate(facts, rules):
    """Judge the candidate colour before it takes traffic.

    facts: candidate (unit facts at the gate's start), candidate_after (at its end), journal
    (journal_errors result: groups with unit), probes (one http_probe result whose endpoints are
    named "candidate:health", "candidate:openapi", "candidate:<path>" and "live:<path>"),
    candidate_unit, live_unit.
    rules: expected_version, expected_routes, latency_margin_pct, latency_margin_ms, catalogue.
    """
    if not isinstance(facts, dict) or not isinstance(rules, dict):
        raise AnsibleFilterError("dbl_bluegreen_gate: expected the facts and the rules as dicts")
    before = facts.get("candidate") or {}
    after = facts.get("candidate_after") or {}
    unit = facts.get("candidate_unit", "candidate")
    checks = [
        _check("unit active", before.get("active_state") == "active" and after.get("active_state") == "active",
               f"{unit} is active", f"{unit} is {after.get('active_state') or before.get('active_state') or 'missing'}"
               f" ({after.get('sub_state') or before.get('sub_state') or 'not found'})"),
        _check("not restarting",
               before.get("exists") and before.get("restarts") == after.get("restarts")
               and before.get("main_pid") == after.get("main_pid"),
               f"{unit} kept PID {after.get('main_pid')} during the gate",
               f"{unit} restarted during the gate (restarts {before.get('restarts')} -> {after.get('restarts')},"
               f" PID {before.get('main_pid')} -> {after.get('main_pid')})"),
    ]
    probes = facts.get("probes") or []
    health = next(iter(_named(probes, "candidate:health")), {})
    body = _body_json(health) or {}
    checks.append(_check("health answers", health.get("ok"), f"health answered {health.get('status')}",
                         f"health answered {health.get('status') or 'nothing'}"
                         + (f": {health['error']['msg']}" if health.get("error") else "")))
    expected_version = rules.get("expected_version")
    if expected_version:
        checks.append(_check("expected version", body.get("version") == expected_version,
                             f"runs version {expected_version}",
                             f"runs version {body.get('version')!r}, expected {expected_version!r}"))
    routes = set((_body_json(next(iter(_named(probes, "candidate:openapi")), {})) or {}).get("paths") or {})
    missing = [r for r in rules.get("expected_routes") or [] if r not in routes]
    checks.append(_check("expected routes", not missing and bool(routes),
                         f"all {len(rules.get('expected_routes') or [])} expected routes are in /openapi.json",
                         f"missing from /openapi.json: {', '.join(missing) or 'the schema itself'}"))
    groups = (facts.get("journal") or {}).get("groups") or []
    new = _new_error_groups([g for g in groups if g.get("unit") == unit],
                            [g for g in groups if g.get("unit") == facts.get("live_unit")],
                            rules.get("catalogue") or [])
    checks.append(_check("no new error groups", not new, "no new error groups since it started",
                         f"{len(new)} new error group(s) since it started: "
                         + "; ".join((g.get("fingerprint") or "")[:100] for g in new)))
    candidate_p50, live_p50 = _p50(_named(probes, "candidate:/")), _p50(_named(probes, "live:/"))
    if candidate_p50 is None:
        checks.append(_check("latency", False, "", "the candidate's latency could not be measured"))
    elif live_p50 is not None:
        margin_pct = _rule_number(rules, "latency_margin_pct", 50)
        margin_ms = _rule_number(rules, "latency_margin_ms", 5)
        limit = round(live_p50 * (1 + margin_pct / 100) + margin_ms, 3)
        checks.append(_check("latency", candidate_p50 <= limit,
                             f"warm p50 {candidate_p50} ms, live {live_p50} ms (limit {limit} ms)",
                             f"warm p50 {candidate_p50} ms is worse than live {live_p50} ms beyond the margin"
                             f" (limit {limit} ms)"))
    return _verdict(checks)


def bluegreen_verification(facts, rules):
    """Judge the public URL after the switch: answers come from the candidate, errors and latency in bounds.

    facts: load (http_load result through the public URL), health (http_probe results with body),
    candidate (colour). rules: max_error_rate_pct, max_p95_ms.
    """
    if not isinstance(facts, dict) or not isinstance(rules, dict):
        raise AnsibleFilterError("dbl_bluegreen_verification: expected the facts and the rules as dicts")
    load = facts.get("load") or {}
    requests = load.get("requests") or 0
    good = sum(n for code, n in (load.get("status_codes") or {}).items() if str(code).startswith(("2", "3")))
    error_rate = round((requests - good) / requests * 100, 2) if requests else None
    colors = [(_body_json(p) or {}).get("color") for p in facts.get("health") or []]
    candidate = facts.get("candidate")
    p95 = (load.get("latency") or {}).get("p95_ms")
    errors = {kind: n for kind, n in (load.get("errors") or {}).items() if n}
    max_error_rate = _rule_number(rules, "max_error_rate_pct", 1)
    max_p95 = _rule_number(rules, "max_p95_ms", 500)
    checks = [
        _check("served by the candidate", colors and all(c == candidate for c in colors),
               f"/health answered from {candidate}", f"/health answered from {colors or 'nothing'}, not {candidate}"),
        _check("error rate", error_rate is not None and error_rate <= max_error_rate,
               f"{error_rate} % of {requests} requests failed",
               f"{error_rate} % of {requests} requests failed (limit {max_error_rate} %):"
               f" statuses {load.get('status_codes')}, errors {errors}"),
        _check("latency", p95 is not None and p95 <= max_p95,
               f"p95 {p95} ms", f"p95 {p95} ms above {max_p95} ms"),
    ]
    return _verdict(checks)


def bluegreen_verdict(gate, verification, live, candidate):
    """promoted / rejected / rolled_back, the colour live after the run, and the reasons."""
    if not gate.get("passed"):
        status, live_after, reasons = "rejected", live, gate.get("reasons", [])
    elif verification and not verification.get("passed"):
        status, live_after, reasons = "rolled_back", live, verification.get("reasons", [])
    else:
        status, live_after, reasons = "promoted", candidate, []
    text = {"promoted": f"promoted {candidate}: it now takes the traffic ({live} is kept for rollback)",
            "rejected": f"rejected {candidate} before the switch: {live} keeps the traffic",
            "rolled_back": f"rolled back: {candidate} failed after the switch, {live} takes the traffic again"}
    return {"status": status, "text": text[status], "live_before": live, "candidate": candidate,
            "live_after": live_after, "reasons": reasons, "gate": gate, "verification": verification}


def deploy_summary(hosts, hostvars):
    """What a pipeline needs from a blue/green run: per host its verdict and baseline, and overall.

    status: promoted (every host promoted, no critical target missed), gated (a candidate was
    rejected or rolled back, or a critical target was missed) or failed (a host's checks did not
    finish). The post-deploy hook maps them to exit codes 0, 1 and 2.
    """
    per_host = {}
    for host in hosts:
        found = hostvars[host]
        verdict = found.get("bluegreen_verdict")
        record = found.get("baseline_record") or {}
        critical = [v["summary"] for v in record.get("verdicts", []) if v.get("status") == "critical"]
        if not verdict:
            status = "failed"
        elif verdict["status"] != "promoted" or critical:
            status = "gated"
        else:
            status = "promoted"
        per_host[host] = {
            "status": status,
            "verdict": {k: verdict[k] for k in ("status", "text", "reasons", "live_before", "live_after", "candidate")}
            if verdict else {"status": "not_run", "text": "the blue/green checks did not finish on this host"},
            "critical_missed": critical,
            "baseline": {**{k: record.get(k) for k in ("measured_at", "deployed_at", "deployed_at_source",
                                                        "minutes_since_deploy")},
                         "overall": record.get("verdict"), "summary": record.get("summary")} if record else None,
        }
    statuses = {h["status"] for h in per_host.values()}
    overall = "failed" if "failed" in statuses or not per_host else "gated" if "gated" in statuses else "promoted"
    return {"status": overall, "hosts": per_host}


class FilterModule:
    def filters(self):
        return {
            "dbl_other_color": other_color,
            "dbl_bluegreen_gate_endpoints": bluegreen_gate_endpoints,
            "dbl_switch_upstream": switch_upstream,
            "dbl_bluegreen_gate": bluegreen_gate,
            "dbl_bluegreen_verification": bluegreen_verification,
            "dbl_bluegreen_verdict": bluegreen_verdict,
            "dbl_deploy_summary": deploy_summary,
        }
