"""A baseline record and its verdicts: the domain of the baseline role, pure, standard library only.

From the module results registered on a host (systemd_unit_facts, journal_errors, redis_facts,
postgres_facts, http_probe, http_load, baseline_facts' switch) and the run's context, baseline_record
builds the whole record of one host (schemas/baseline.schema.json): its summary figures
(module_utils/baseline_catalogue.py), the verdict of each threshold and day target, the status of
each part, the comparison with the previous baseline, the known issues, the schedule, the
recommendations and the overall verdict, with the reasons for it. gate_reasons says why a record
fails the gate, baseline_fleet makes the fleet summary's rows (module_utils/baseline_service.py
makes a service's report of them). Bad input raises RecordError, which the filters
(filter_plugins/baseline.py) turn into an AnsibleFilterError naming the filter.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from ansible.module_utils import baseline_live, baseline_noise, baseline_redis
from ansible.module_utils.baseline_catalogue import METRICS, delta_pct, human_metric

SCHEMA_VERSION = 1


class RecordError(ValueError):
    """Input a record cannot be built or judged from; the message says what is wrong."""


def _mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 3) if values else None


def baseline_summary(facts):
    """The reference report's summary figures, from the gathered facts; None where not measured."""
    if not isinstance(facts, dict):
        raise RecordError("expected the gathered facts as a dict")
    unit = facts.get("unit") or {}
    redis = facts.get("redis") or {}
    journal = facts.get("journal") or {}
    endpoints = facts.get("http_public") or facts.get("http_local") or []
    answered = [e for e in endpoints if e.get("ok")]
    return {
        "api_response_time_cold_ms": _mean([(e.get("cold") or {}).get("total_ms") for e in answered]),
        "api_response_time_warm_ms": _mean([(e.get("warm") or {}).get("p50_ms") for e in answered]),
        "cache_hit_rate_pct": redis.get("hit_rate_pct") if redis.get("reachable") else None,
        "cache_memory_bytes": redis.get("used_memory_bytes") if redis.get("reachable") else None,
        "app_memory_bytes": unit.get("memory_bytes") if unit.get("exists") else None,
        "app_cpu_avg_pct": unit.get("cpu_avg_pct") if unit.get("exists") else None,
        "uptime_s": unit.get("uptime_s") if unit.get("exists") else None,
        "error_count": journal.get("error_count") if "error_count" in journal else None,
    }


_BOUNDS = {"max": ("≤", lambda value, bound: value <= bound),
           "min": ("≥", lambda value, bound: value >= bound),
           "equals": ("=", lambda value, bound: value == bound)}


def _bound(rule):
    """(kind, value) of a threshold rule: {max: X}, {min: X} or {equals: X}."""
    kinds = [k for k in _BOUNDS if k in rule]
    if len(kinds) != 1:
        raise RecordError(f"a threshold needs one of max, min or equals; got {rule!r}")
    return kinds[0], rule[kinds[0]]


def judge_thresholds(summary, thresholds, pending_reasons=None, lower_bounds=None):
    """One verdict per threshold: status ok / warning / critical / pending, with the reason.

    thresholds: {metric: {max|min|equals: X, severity: warning|critical}}.
    pending_reasons: {metric: why it is not measured or not yet meaningful}.
    lower_bounds: {metric: why its value is only a lower bound}: such a value misses a max or an
    equals only when it is already above it, meets a min only when it already reaches it, and is
    pending otherwise, shown as "at least N (why)".
    """
    if not isinstance(summary, dict) or not isinstance(thresholds, dict):
        raise RecordError("expected the summary and the thresholds as dicts")
    pending_reasons = pending_reasons or {}
    lower_bounds = lower_bounds or {}
    verdicts = []
    for metric, rule in sorted(thresholds.items()):
        if metric not in METRICS:
            raise RecordError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
        severity = rule.get("severity", "warning")
        if severity not in ("warning", "critical"):
            raise RecordError(
                f"severity of {metric} must be warning or critical, not {severity!r}")
        kind, bound = _bound(rule)
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise RecordError(f"the {kind} of {metric} must be a number, got {bound!r}")
        value = summary.get(metric)
        verdict = {
            "metric": metric,
            "label": METRICS[metric].label,
            "expected": f"{_BOUNDS[kind][0]} {human_metric(bound, metric)}",
            "actual": human_metric(value, metric),
            "value": value,
            "severity": severity,
        }
        if value is None:
            verdict.update(status="pending", reason=pending_reasons.get(metric, "not measured"))
        elif metric in lower_bounds:
            verdict["actual"] = f"at least {verdict['actual']} ({lower_bounds[metric]})"
            decided = value >= bound if kind == "min" else value > bound
            if not decided:
                verdict.update(status="pending", reason=f"not known: only a lower bound ({lower_bounds[metric]})")
            else:
                verdict.update(status="ok" if kind == "min" else severity,
                               reason="within target" if kind == "min" else f"outside target ({verdict['expected']})")
        else:
            met = _BOUNDS[kind][1](value, bound)
            verdict.update(status="ok" if met else severity,
                           reason="within target" if met else f"outside target ({verdict['expected']})")
        verdicts.append(verdict)
    return verdicts


def missed_thresholds(verdicts, severity="critical"):
    """The verdicts that missed at the given severity or worse."""
    levels = {"warning": ("warning", "critical"), "critical": ("critical",)}
    if severity not in levels:
        raise RecordError(f"severity must be warning or critical, not {severity!r}")
    return [v for v in verdicts if v["status"] in levels[severity]]


# Parts that were not measured and have no status of their own in the record, as people name them.
UNSTATUSED_PARTS = {"journal": "Journal", "load": "Concurrency test", "datastores": "Datastore hosts"}


def gate_reasons(record, severity="critical"):
    """Why a baseline fails the gate at a severity, one line each; empty when it passes.

    A part (Application, Redis, ...) at the severity or worse, a part not measured (failed, which
    ranks above critical: what could not be seen does not pass), and the thresholds missed.
    """
    if not isinstance(record, dict) or not {"status", "problems", "verdicts"} <= set(record):
        raise RecordError("expected a baseline record (baseline_record)")
    if severity not in ("warning", "critical"):
        raise RecordError(f"severity must be warning or critical, not {severity!r}")
    failing = SEVERITY_ORDER[SEVERITY_ORDER.index(severity):]
    reasons = [f"{name}: {part['text']}" for name, part in sorted(record["status"].items())
               if part["status"] in failing]
    reasons += [f"{label}: not measured: {record['problems'][key]}"
                for key, label in UNSTATUSED_PARTS.items() if key in record["problems"]]
    thresholds = missed_thresholds(record["verdicts"], severity)
    if thresholds:
        reasons.append(f"missed {len(thresholds)} {severity} threshold(s): "
                       + "; ".join(v["summary"] for v in thresholds))
    return reasons


def compare_baselines(summary, earlier, noise_pct=10.0, min_baselines=1):
    """Per summary figure: previous, current, delta %, and whether it regressed beyond its noise.

    earlier: the summaries of the earlier baselines, oldest first; the previous one is the last.
    A change is a regression when it is on the worse side and larger than the figure's noise: the
    larger of noise_pct % of the previous value and the figure's absolute noise floor
    (module_utils/baseline_noise.py), as the trend's bands. A figure is judged once min_baselines
    earlier baselines measured it (judged false before: its noise is not known yet).
    """
    if not isinstance(earlier, list) or not all(isinstance(e, dict) for e in earlier):
        raise RecordError("expected the earlier baselines' summaries as a list of dicts")
    if not earlier:
        return []
    previous = earlier[-1]
    rows = []
    for metric, meta in METRICS.items():
        now, before = summary.get(metric), previous.get(metric)
        measured = sum(1 for e in earlier if e.get(metric) is not None)
        # Uptime grows by itself between runs; a restart shows in the errors.
        judged = meta.judged and measured >= min_baselines
        tolerance = (baseline_noise.half_width(before, noise_pct, meta.noise_floor)
                     if before is not None else None)
        worse = (judged and now is not None and tolerance is not None
                 and baseline_noise.moved(now, before - tolerance, before + tolerance, meta.better) == "worse")
        waiting = meta.judged and not judged
        rows.append({"metric": metric, "label": meta.label, "previous": before, "current": now,
                     "delta_pct": delta_pct(now, before), "tolerance": tolerance, "judged": judged,
                     "regression": worse,
                     "note": f"not judged yet: {measured} of {min_baselines} earlier baselines" if waiting else ""})
    return rows


def metric_trend(history, metric):
    """Values of one summary figure over a list of baselines (oldest first), with min / max / last."""
    values = [((b.get("summary") or {}).get(metric), b.get("measured_at")) for b in history]
    measured = [v for v, _ in values if v is not None]
    return {
        "metric": metric,
        "label": METRICS[metric].label,
        "points": [{"measured_at": at, "value": v} for v, at in values],
        "min": min(measured) if measured else None,
        "max": max(measured) if measured else None,
        "last": measured[-1] if measured else None,
    }


def journal_reading(journal):
    """How the journal was read, from journal_errors' facts: exact or cut by the time limit, and
    the words that go next to each count when it is only a lower bound (`bound`, else None)."""
    if journal is None:  # not read: nothing to say of how
        return {"exact": None, "lines_read": None, "max_seconds": None, "covered_pct": None,
                "read_until": None, "bound": None}
    if not isinstance(journal, dict):
        raise RecordError("expected journal_errors' facts as a dict")
    units = list((journal.get("units") or {}).values())
    exact = journal.get("exact", True)
    reading = {"exact": exact, "lines_read": journal.get("lines_read"), "max_seconds": journal.get("max_seconds"),
               "covered_pct": min((u.get("covered_pct", 100.0) for u in units), default=100.0),
               "read_until": next((u.get("read_until") for u in units if u.get("read_until")), None),
               "bound": None}
    if not exact:
        reading["bound"] = (f"{reading['lines_read']:,} lines, {reading['covered_pct']:g} % of the time since the "
                            f"start, were read in the {reading['max_seconds']:g} s limit")
    return reading


def lower_bounds(reading):
    """{metric: why} of the summary figures that are only lower bounds, from the record's journal
    reading (journal_reading): the error count, when the reading was cut."""
    if reading is not None and not isinstance(reading, dict):
        raise RecordError("expected the record's journal reading as a dict")
    return {"error_count": reading["bound"]} if (reading or {}).get("bound") else {}


def journal_count(count, reading):
    """An error count as the report shows it: "812", or "at least 812" when the reading was cut."""
    if not isinstance(reading, dict):
        raise RecordError("expected the record's journal reading as a dict")
    return f"at least {count}" if reading.get("exact") is False else f"{count}"


def journal_bound(reading):
    """The words after a count that is a lower bound, " (why)"; "" when the reading was exact."""
    if not isinstance(reading, dict):
        raise RecordError("expected the record's journal reading as a dict")
    return f" ({reading['bound']})" if reading.get("bound") else ""


def _figure_text(value, metric, bound):
    """A summary figure as the report shows it; a lower bound (an error count of a cut journal
    reading, `bound` its words) as "at least N (why)"."""
    text = human_metric(value, metric)
    return f"at least {text} ({bound})" if bound and value is not None else text


def _change_text(delta, previous_bound, current_bound):
    """The change from the previous baseline as the report shows it, when either figure may be a lower bound."""
    if delta is None:
        return "n/a"
    if previous_bound and current_bound:
        return "n/a: both are lower bounds"
    return f"{'at least ' if current_bound else 'at most ' if previous_bound else ''}{delta} %"


def shown_figures(rows, trend, bounds):
    """The comparison's rows and the trend's (as compare_baselines and metric_trend give them)
    with their figures as the report shows them (previous_text, current_text, change_text;
    min_text, max_text, last_text): an error count that is a lower bound says so next to it.
    bounds: the words of each baseline's bound on its error count (None when its journal was
    read whole), oldest first, the current one last, as the trend's points. A regression is not
    claimed where a lower bound leaves it unknown."""
    previous_bound, current_bound = (bounds[-2] if len(bounds) > 1 else None), bounds[-1]
    for row in rows:
        metric = row["metric"]
        before, now = (previous_bound, current_bound) if metric == "error_count" else (None, None)
        row.update(previous_text=_figure_text(row["previous"], metric, before),
                   current_text=_figure_text(row["current"], metric, now),
                   change_text=_change_text(row["delta_pct"], before, now))
        if row["judged"] and ((before and row["regression"]) or (now and not row["regression"])):
            which = "the previous baseline's count" if before else "the count now"
            row.update(regression=False, note=f"not known: {which} is a lower bound")
    for row in trend:
        metric = row["metric"]
        values = [point["value"] for point in row["points"]]
        for key in ("min", "max", "last"):
            found = row[key]
            at = max(n for n, value in enumerate(values) if value == found) if found is not None else None
            bound = bounds[at] if at is not None and metric == "error_count" else None
            row[f"{key}_text"] = _figure_text(found, metric, bound)
    return rows, trend


_FIELD = re.compile(r"\{(\w+)\}")


def _filled(text, groups):
    """`text` with each {name} replaced by the named group of that name; others left as they are."""
    return _FIELD.sub(lambda field: groups.get(field[1]) or field[0], str(text))


def known_issues_catalogue(entries, extra=None):
    """The catalogue of known issues: the file's entries and an inventory's (baseline_known_issues),
    the latter first, and replacing the file's entry of the same id. Each entry needs an id, a
    title and a pattern that compiles."""
    if not isinstance(entries, list) or not isinstance(extra or [], list):
        raise RecordError("expected the file's entries and the extra ones as lists")
    extra = extra or []
    for entry in [*extra, *entries]:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry[k] for k in
                                                  ("id", "title", "pattern")):
            raise RecordError(f"an entry needs an id, a title and a pattern: {entry!r}")
        try:
            re.compile(entry["pattern"])
        except re.error as exc:
            raise RecordError(
                f"the pattern of {entry['id']} does not compile: {exc}") from None
    replaced = {entry["id"] for entry in extra}
    return [*extra, *(entry for entry in entries if entry["id"] not in replaced)]


def match_known_issues(groups, catalogue):
    """Split journal error groups into known issues (matched by the catalogue) and new ones.

    An entry's named groups name what each match concerns: `names` holds its `names` text filled
    with them, and `solution` its steps filled with them, once per distinct match.
    """
    if not isinstance(groups, list) or not isinstance(catalogue, list):
        raise RecordError("expected the error groups and the catalogue as lists")
    known, new = {}, []
    for group in groups:
        text = group.get("sample", "")
        match, entry = next(((m, c) for c in catalogue for m in [re.search(c["pattern"], text, re.MULTILINE)] if m),
                            (None, None))
        if entry is None:
            new.append(group)
            continue
        slot = known.setdefault(entry["id"], dict(entry, count=0, groups=[], names=[], solution=[]))
        slot["count"] += group.get("count", 0)
        slot["groups"].append(group)
        found = {name: value for name, value in match.groupdict().items() if value}
        for target, texts in (("names", [entry["names"]] if entry.get("names") else []),
                              ("solution", entry.get("solution") or [])):
            slot[target].extend(filled for filled in (_filled(t, found) for t in texts) if filled not in slot[target])
    return {"known": list(known.values()), "new": new}


def minutes_since(then, now):
    """Whole minutes from an ISO 8601 time to another; None when either is missing."""
    if not then or not now:
        return None
    start, end = (datetime.fromisoformat(str(t).replace("Z", "+00:00")) for t in (then, now))
    # A unit that (re)started while the run measured it started after the run's clock was read: 0, not -1.
    return max(0, math.floor((end - start).total_seconds() / 60))


def add_days(when, days):
    """An ISO 8601 time plus N days, as an ISO 8601 date."""
    start = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
    return (start + timedelta(days=days)).astimezone(timezone.utc).date().isoformat()


SEVERITY_ORDER = ["ok", "pending", "warning", "critical", "failed"]


def worst_status(statuses):
    """The worst of statuses (ok < pending < warning < critical < failed); ok for none."""
    return max(statuses, key=SEVERITY_ORDER.index, default="ok")


def registered_facts(result, key):
    """(facts, problem) of one registered module result: the facts, or why there are none."""
    if not isinstance(result, dict) or result.get("skipped"):
        return None, None
    if result.get("unreachable"):
        return None, f"host unreachable: {result.get('msg', 'no reason given')}"
    if key in result:
        return result[key], None
    return None, result.get("msg") or f"the module returned no {key}"


def _upstream_record(upstream):
    """What the baseline keeps of baseline_facts' upstream result, with the note the report shows
    next to the live colour when the include changed after nginx last loaded its configuration, or
    when that could not be told."""
    if not isinstance(upstream, dict):
        raise RecordError("expected baseline_facts' upstream result as a dict")
    if not upstream.get("file"):
        return None
    kept = {k: upstream.get(k) for k in ("file", "reason", "modified_at", "loaded_at", "changed_after_load")}
    if upstream.get("changed_after_load"):
        kept["note"] = (f"the include {upstream['file']} was changed at {upstream['modified_at']}, after nginx last"
                        f" loaded its configuration at {upstream['loaded_at']}: the file may not be what nginx serves")
    elif upstream.get("changed_after_load") is None:
        kept["note"] = (f"whether the include {upstream['file']} changed after nginx last loaded its configuration"
                        f" could not be told: {upstream.get('loaded_at_error') or 'no reason given'}")
    else:
        kept["note"] = ""
    return kept


def unit_status(unit, problem):
    """{status, text} of a systemd unit's facts (systemd_unit_facts), or why it was not measured."""
    if unit is None:
        return {"status": "failed", "text": f"not measured: {problem}"}
    if not unit.get("exists"):
        return {"status": "critical", "text": "unit not found"}
    state = f"{unit.get('active_state')} ({unit.get('sub_state')})"
    restarted = f", restarted {unit['restarts']} time(s)" if unit.get("restarts") else ""
    if unit.get("active_state") != "active":  # with restarts: crash-looping
        return {"status": "critical", "text": state + restarted}
    if restarted:
        return {"status": "warning", "text": state + restarted}
    return {"status": "ok", "text": state}


def _reachable_status(facts, problem, what):
    if facts is None:
        return {"status": "failed", "text": f"not measured: {problem}"}
    if not facts.get("reachable"):
        return {"status": "critical", "text": facts.get("error") or f"{what} not reachable"}
    return {"status": "ok", "text": "running and responding"}


def _http_status(endpoints, problem):
    if endpoints is None:
        return {"status": "failed", "text": f"not measured: {problem}"}
    # Endpoints failing for the same reason (the host refused, TLS, DNS) are named once, with it.
    failing = {}
    for e in endpoints:
        if not e.get("ok"):
            failing.setdefault(str((e.get("error") or {}).get("msg") or e.get("status")), []).append(e.get("name"))
    if failing:
        return {"status": "critical", "text": "; ".join(
            f"{f'all {len(names)} endpoints' if len(names) == len(endpoints) > 1 else ', '.join(names)}: {reason}"
            for reason, names in failing.items())}
    return {"status": "ok", "text": f"{len(endpoints)} endpoint(s) answered as expected"}


def _pending_reasons(facts, problems):
    reasons = {}
    redis = facts.get("redis") or {}
    if redis.get("reachable") and redis.get("hit_rate_pct") is None:
        reasons["cache_hit_rate_pct"] = "not yet populated: no cache lookups since Redis started"
    if not facts.get("http_public") and not facts.get("http_local"):
        reasons["api_response_time_cold_ms"] = reasons["api_response_time_warm_ms"] = (
            problems.get("http_public") or "no endpoint answered")
    for metric, section in (("cache_memory_bytes", "redis"), ("app_memory_bytes", "unit"),
                            ("app_cpu_avg_pct", "unit"), ("uptime_s", "unit"), ("error_count", "journal"),
                            ("cache_hit_rate_pct", "redis")):
        reason = problems.get(section) or problems.get("host")
        if reason:
            reasons.setdefault(metric, reason)
    redis_error = (facts.get("redis") or {}).get("error")
    if redis_error:
        reasons.setdefault("cache_hit_rate_pct", redis_error)
        reasons.setdefault("cache_memory_bytes", redis_error)
    return reasons


def _day_targets(summary, targets, deployed_at, measured_at, pending_reasons, lower_bounds=None):
    rows = []
    for target in targets:
        due = add_days(deployed_at, target["day"]) if deployed_at else None
        overdue = due is not None and measured_at[:10] > due
        verdicts = judge_thresholds(summary, {m: dict(r, severity=r.get("severity", "warning"))
                                   for m, r in target["thresholds"].items()}, pending_reasons, lower_bounds)
        for v in verdicts:
            if v["status"] in ("warning", "critical") and not overdue:
                v.update(status="pending", reason=f"not met yet; due {due}")
        rows.append({"day": target["day"], "due": due, "verdicts": verdicts})
    return rows


def _recommendations(record):
    tips = []
    for issue in record["known_issues"]["known"]:
        tips.extend(f"{issue['title']}: {step}" for step in issue.get("solution", []))
    for group in record["known_issues"]["new"]:
        seen = journal_count(group.get("count"), record["journal"])
        tips.append(f"Investigate the new error group seen {seen} time(s): "
                    f"{(group.get('sample') or '').splitlines()[0][:120] if group.get('sample') else '?'}")
    for v in record["verdicts"]:
        if v["status"] in ("warning", "critical"):
            tips.append(f"{v['label']} is {v['actual']}, expected {v['expected']}")
        elif v["metric"] == "cache_hit_rate_pct" and v["status"] == "pending":
            tips.append("Warm the cache (playbooks/warm_cache.yml) and measure the hit rate again")
    for name, section in record["status"].items():
        if section["status"] in ("critical", "failed"):
            tips.append(f"{name}: {section['text']}")
    for row in record["comparison"]["rows"]:
        if row["regression"]:
            tips.append(f"{row['label']} regressed by {row['delta_pct']} % since the previous baseline")
    return tips


def _schedule(record):
    facts = record["facts"]
    summary = record["summary"]
    postgres = facts.get("postgres") or {}
    return [
        {"item": "Initial baseline measurements", "done": record["reachable"]},
        {"item": "Test 100 concurrent requests", "done": bool(facts.get("load"))},
        {"item": "Measure database query times", "done": postgres.get("slowest_statements") is not None},
        {"item": "Document cold start performance", "done": summary["api_response_time_cold_ms"] is not None},
        {"item": "Measure warm cache performance", "done": summary["api_response_time_warm_ms"] is not None
            and summary["cache_hit_rate_pct"] is not None},
        {"item": "Track cache hit rate", "done": summary["cache_hit_rate_pct"] is not None},
        {"item": "Compare with baseline", "done": record["comparison"]["previous_measured_at"] is not None},
    ]


VERDICT_TEXT = {"ok": "Good", "pending": "Good", "warning": "Needs attention", "critical": "Critical",
                "failed": "Incomplete: some parts could not be measured"}


def _history_source(source, read):
    """Where the earlier baselines came from: {store, location, count (held there), read, error}."""
    source = source if isinstance(source, dict) else {}
    return {"store": source.get("store", "controller"), "location": source.get("location"),
            "count": source.get("count", read), "read": read, "error": source.get("error") or None}


def baseline_record(results, context):
    """The whole baseline of one host from its registered module results and the run's context.

    results: registered results by section (units, switch, journal, redis, postgres, http_local,
    http_public, load). context: host, environment, service, color, measured_at, public_url,
    unreachable_reason, thresholds, targets, known_issues, history, noise_pct, noise_min_baselines,
    history_source ({store, location, count, error}: where the history was read and how many baselines it holds),
    datastores (where Redis and PostgreSQL were read, and their hosts: baseline_datastores.datastore_readings).
    """
    if not isinstance(results, dict) or not isinstance(context, dict):
        raise RecordError("expected the results and the context as dicts")
    problems = {}
    facts = {}
    for section, key in (("units", "systemd_units"), ("journal", "journal_errors"), ("redis", "redis"),
                         ("postgres", "postgres"), ("http_local", "http_probe"),
                         ("http_public", "http_probe"), ("load", "http_load")):
        facts[section], problem = registered_facts(results.get(section), key)
        if problem:
            problems[section] = problem
    color = context.get("color") or ""
    upstream = context.get("upstream") or {}
    unit_name = f"{context['service']}-{color}" if color else None
    units = facts.pop("units") or {}
    facts["unit"] = units.get(unit_name) if unit_name else None
    facts["other_units"] = {name: u for name, u in units.items() if name != unit_name}
    reachable = not context.get("unreachable_reason")
    if not reachable:
        # Nothing ran on the host: one reason stands for every section measured there.
        problems = {"host": f"host unreachable: {context['unreachable_reason']}",
                    **{k: v for k, v in problems.items() if k == "http_public"}}
    elif "units" in problems:
        problems["unit"] = problems.pop("units")
    elif facts["unit"] is None:
        found = upstream.get("reason")
        problems["unit"] = ("the live colour could not be told from nginx's upstream file"
                            + (f" {upstream.get('file')}: {found}" if found else "") + "; set baseline_color")
    on_host = {s: problems.get(s) or problems.get("host") for s in ("unit", "journal", "redis", "postgres")}
    # Where each datastore was read and its host's units (baseline_datastores.datastore_readings):
    # a host of its own that could not be measured is a part not measured.
    datastores = context.get("datastores") or {}
    host_problems = dict.fromkeys(d["problem"] for d in datastores.values() if d.get("problem"))
    if host_problems:
        problems["datastores"] = "; ".join(host_problems)

    summary = baseline_summary(facts)
    pending = _pending_reasons(facts, problems)
    reading = journal_reading(facts.get("journal"))
    bounds = lower_bounds(reading)
    unit = facts["unit"] or {}
    # Not a problem of its own: without the record, the deploy is counted from the unit's start, which says why.
    switch, switch_problem = registered_facts(results.get("switch"), "switch")
    switch_problem = problems.get("host") or switch_problem
    facts["switch"] = switch
    deploy = baseline_live.deploy_time(switch if (switch or {}).get("found") else None, switch_problem,
                                       color, unit.get("active_since"))
    deployed_at = deploy["at"]
    history = [h for h in context.get("history") or [] if isinstance(h, dict)]
    previous = history[-1] if history else None
    record = {
        "schema_version": SCHEMA_VERSION,
        "host": context["host"],
        "environment": context["environment"],
        "service": context["service"],
        "color": color or None,
        "unit": unit_name,
        "public_url": context.get("public_url"),
        "measured_at": context["measured_at"],
        "deployed_at": deployed_at,
        "deployed_at_source": deploy["source"],
        "deployed_at_text": deploy["text"],
        # The journal counts them from the switch the module read (baseline_facts): null without one.
        "errors_since_traffic": ((facts.get("journal") or {}).get("error_events_since_traffic")
                                 if deploy["source"] in ("switch", "rollback") else None),
        "minutes_since_deploy": minutes_since(deployed_at, context["measured_at"]),
        "reachable": reachable,
        "upstream": _upstream_record(upstream),
        "summary": summary,
        "problems": problems,
        "status": {
            "Application": unit_status(facts["unit"], on_host["unit"]),
            "Redis": _reachable_status(facts["redis"], on_host["redis"], "Redis"),
            "Database": _reachable_status(facts["postgres"], on_host["postgres"], "PostgreSQL"),
            "Public URL": _http_status(facts["http_public"], problems.get("http_public")),
        },
        "verdicts": judge_thresholds(summary, context.get("thresholds") or {}, pending, bounds),
        "targets": _day_targets(summary, context.get("targets") or [], deployed_at,
                                context["measured_at"], pending, bounds),
        "journal": reading,
        "key_patterns": baseline_redis.key_pattern_counts((facts.get("redis") or {}).get("key_scan")),
        "datastores": datastores,
        "known_issues": match_known_issues((facts.get("journal") or {}).get("groups", []),
                                     context.get("known_issues") or []),
        "comparison": {
            "history": _history_source(context.get("history_source"), len(history)),
            "previous_measured_at": previous.get("measured_at") if previous else None,
            "rows": compare_baselines(summary, [h.get("summary") or {} for h in history], context.get("noise_pct", 10),
                                      context.get("noise_min_baselines", 1)),
            "noise_pct": context.get("noise_pct", 10),
            "min_baselines": context.get("noise_min_baselines", 1),
        },
        "trend": [metric_trend([*history, {"summary": summary, "measured_at": context["measured_at"]}], m)
                  for m in METRICS],
        "facts": facts,
    }
    shown_figures(record["comparison"]["rows"], record["trend"],
                  [(h.get("journal") or {}).get("bound") for h in history] + [reading["bound"]])
    if facts.get("http_local") is not None or "http_local" in problems:
        record["status"]["Application port"] = _http_status(facts["http_local"], problems.get("http_local"))
    for v in record["verdicts"]:
        v["summary"] = f"{v['label']}: {v['actual']} (expected {v['expected']})"
    record["schedule"] = _schedule(record)
    record["recommendations"] = _recommendations(record)
    worst = worst_status([s["status"] for s in record["status"].values()]
                   + [v["status"] for v in record["verdicts"] if v["status"] != "pending"]
                   + ["failed" for _ in problems])
    record["verdict"] = {"status": worst, "text": VERDICT_TEXT[worst]}
    record["verdict"]["reasons"] = verdict_reasons(record)
    return record


def verdict_reasons(record):
    """Why a record's verdict is what it is, one line each (gate_reasons at the verdict's severity);
    empty when it is good."""
    status = record["verdict"]["status"]
    if status in ("ok", "pending"):
        return []
    return gate_reasons(record, "warning" if status == "warning" else "critical")


def baseline_fleet(hosts, measured, earlier, folder=""):
    """The fleet summary's rows, one per host of the fleet (sorted), whichever job measured it.

    hosts: every host of the fleet (the inventory's, not only this job's: a sliced job measures a
    part). measured: the records this job built. earlier: the heads (baseline_history) of the
    latest baselines of the hosts this job did not measure, read from `folder`. Returns
    {rows, hosts, with_baseline, this_run} (the counts); a row is {host, environment, service,
    measured_at, this_run, status, text, reasons, unit, summary, lower_bounds, errors_text (the
    error count as the report shows it, a lower bound with its words)}, or {host, missing,
    this_run} when there is no baseline of it.
    """
    if not isinstance(hosts, list) or not isinstance(measured, list) or not isinstance(earlier, list):
        raise RecordError("expected the fleet's hosts, this run's records and the "
                                 "earlier heads as lists")
    rows = {}
    for head, this_run in [*((h, False) for h in earlier), *((r, True) for r in measured)]:
        if not isinstance(head, dict) or not head.get("host"):
            raise RecordError(f"expected baseline records with a host, got {head!r}")
        # A record's verdict is {status, text, reasons}; a head read from a file (dbl_parse_baselines)
        # holds its status, and its reasons beside it.
        verdict = head.get("verdict")
        status = verdict.get("status") if isinstance(verdict, dict) else verdict
        reasons = verdict.get("reasons") if isinstance(verdict, dict) else head.get("reasons")
        bounds = lower_bounds(head.get("journal"))
        rows[head["host"]] = {
            "host": head["host"], "environment": head.get("environment"), "service": head.get("service"),
            "measured_at": head.get("measured_at"), "this_run": this_run,
            "status": status, "text": VERDICT_TEXT.get(status, "unknown"),
            "reasons": reasons,  # None: a baseline written before records said why
            "unit": head.get("unit") or (f"{head['service']}-{head['color']}" if head.get("color") else None),
            "summary": head.get("summary") or {},
            "lower_bounds": bounds,
            "errors_text": _figure_text((head.get("summary") or {}).get("error_count"), "error_count",
                                        bounds.get("error_count")),
        }
    missing = f"no baseline in {folder}" if folder else "no baseline"
    fleet = [rows.get(host) or {"host": host, "missing": missing, "this_run": False} for host in sorted(set(hosts))]
    return {"rows": fleet, "hosts": len(fleet), "with_baseline": sum("missing" not in row for row in fleet),
            "this_run": sum(row["this_run"] for row in fleet)}
