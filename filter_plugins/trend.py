"""Filters of the trend report: a host's baselines over time, their noise bands and regressions.

Noise band: each figure of a baseline is judged against the values of the same figure in the
baselines before it, the last ``window`` of them that were measured: their median, plus or minus
``k`` times the scaled median absolute deviation (1.4826 x MAD estimates the standard deviation of
normal noise, so k=3 is "three sigma"), and never narrower than the figure's noise floors: ``floor_pct``
% of the median and the figure's absolute floor (module_utils/baseline_catalogue.py), so that a flat,
noisy history does not flag every small move. A figure needs ``min_points`` earlier values before
it is judged. Outside the band on the worse side is a regression, on the better side an improvement;
on its edge is within.
Uptime is not judged: it grows by itself between runs. Each point looks at most ``window`` earlier
values, so the work grows linearly with the number of baselines.
"""

from __future__ import annotations

import math
import re
import runpy
import statistics
from pathlib import Path

import yaml
from ansible.errors import AnsibleFilterError

# The project's module_utils, importable here as in the modules Ansible sends to a host.
runpy.run_path(str(Path(__file__).resolve().parents[1] / "module_utils" / "on_controller.py"))

from ansible.module_utils import baseline_noise
from ansible.module_utils.baseline_catalogue import METRICS, delta_pct

try:
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # PyYAML without libyaml: slower, same result
    from yaml import SafeLoader


# The top-level entries of a baseline file that a trend, the fleet summary and a service's report
# read. The rest (facts above all) is most of the file and is never parsed.
HEAD_KEYS = ("host", "environment", "service", "color", "measured_at", "summary", "verdict", "journal")
_TOP_LEVEL_KEY = re.compile(r"^(" + "|".join(HEAD_KEYS) + r"):", re.MULTILINE)
_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
# Up to this many points a chart names each on its x axis; beyond, it numbers them.
CHART_LABELS_MAX = 12


def _head(text):
    """The YAML of the top-level entries in HEAD_KEYS, cut out of a whole baseline file."""
    marks = list(re.finditer(r"^[^\s#-][^:\n]*:", text, re.MULTILINE))
    wanted = []
    for number, mark in enumerate(marks):
        if _TOP_LEVEL_KEY.match(mark.group(0)):
            end = marks[number + 1].start() if number + 1 < len(marks) else len(text)
            wanted.append(text[mark.start():end])
    return "".join(wanted)


def _baseline(text, name):
    where = f"dbl_parse_baselines: {name}"
    try:
        head = yaml.load(_head(text), Loader=SafeLoader)
        if not isinstance(head, dict) or "summary" not in head:  # not our layout: read the whole file
            head = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise AnsibleFilterError(f"{where} is not valid YAML: {exc}") from exc
    if not isinstance(head, dict) or not isinstance(head.get("summary"), dict):
        raise AnsibleFilterError(f"{where} is not a baseline record (no summary)")
    if not _UTC_TIME.match(str(head.get("measured_at"))):
        raise AnsibleFilterError(f"{where} has no UTC measured_at (YYYY-MM-DDTHH:MM:SSZ): {head.get('measured_at')!r}")
    for metric, value in head["summary"].items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise AnsibleFilterError(f"{where}: summary.{metric} is not a number: {value!r}")
    return {
        "host": head.get("host"), "environment": head.get("environment"), "service": head.get("service"),
        "color": head.get("color"), "measured_at": head["measured_at"],
        "verdict": (head.get("verdict") or {}).get("status"),
        "reasons": (head.get("verdict") or {}).get("reasons"),  # None in a baseline older than them
        "summary": {metric: head["summary"].get(metric) for metric in METRICS},
        # Whether its error count is a lower bound, and why (a cut journal reading).
        "journal": {"bound": (head.get("journal") or {}).get("bound")},
    }


def parse_baselines(texts, names=None):
    """Baseline files' texts -> [{host, service, environment, color, measured_at, verdict, reasons, summary, journal}].

    names (the files' paths, in the same order) only serve the error messages. Only the entries a
    trend needs are parsed, so 1,000 baselines read in well under a second.
    """
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise AnsibleFilterError("dbl_parse_baselines: expected the baseline files' texts as a list of strings")
    names = list(names) if names is not None else [f"baseline #{n + 1}" for n in range(len(texts))]
    if len(names) != len(texts):
        raise AnsibleFilterError(f"dbl_parse_baselines: {len(texts)} texts but {len(names)} names")
    return [_baseline(text, name) for text, name in zip(texts, names, strict=True)]


def baseline_head(record):
    """The entries of a baseline record that a comparison and a trend read (HEAD_KEYS): what the
    baseline role keeps on the host. The facts (journal lines above all) stay out."""
    if not isinstance(record, dict) or not isinstance(record.get("summary"), dict):
        raise AnsibleFilterError("dbl_baseline_head: expected a baseline record (a dict with a summary)")
    return {key: record.get(key) for key in HEAD_KEYS}


def noise_band(earlier, k=3.0, floor_pct=10.0, floor=0.0):
    """{median, low, high, mad, points} of earlier values: median +- max(k x 1.4826 x MAD, floor_pct % of it, floor).

    floor is the figure's absolute noise floor, in its unit. low never goes below 0: every summary
    figure is a size, a time, a rate or a count.
    """
    if not isinstance(earlier, list) or not earlier:
        raise AnsibleFilterError("dbl_noise_band: expected the earlier values as a non-empty list")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in earlier):
        raise AnsibleFilterError(f"dbl_noise_band: expected numbers, got {earlier!r}")
    return baseline_noise.band(earlier, k, floor_pct, floor)


def _flag(value, band, better):
    """regression / improvement / within for a value against its band; '' when there is nothing to judge."""
    if better == "none":
        return "not judged"
    if value is None or band is None:
        return ""
    moved = baseline_noise.moved(value, band["low"], band["high"], better)
    return {"worse": "regression", "better": "improvement", "within": "within"}[moved]


def _chart(figure, points, metric):
    measured = [(p["measured_at"], p["summary"][metric]) for p in points if p["summary"][metric] is not None]
    values = [v if figure.chart_divisor == 1 else round(v / figure.chart_divisor, 3) for _, v in measured]
    one_day = len({at[:10] for at, _ in measured}) == 1
    labels = ([at[11:19] if one_day else f"{at[5:10]} {at[11:16]}" for at, _ in measured]
              if len(measured) <= CHART_LABELS_MAX else None)
    unit = figure.chart_unit or figure.unit
    return {"title": f"{figure.label}, {unit}", "unit": unit, "labels": labels,
            "data": values}


def _series(history, metric, figure, k, window, min_points, floor_pct):
    """Per point of one figure: its band (from earlier measured values) and its flag."""
    earlier, rows = [], []
    for point in history:
        value = point["summary"][metric]
        band = None
        if figure.judged and len(earlier) >= min_points:
            band = noise_band(earlier[-window:], k, floor_pct, figure.noise_floor)
            if figure.ceiling is not None:
                band["high"] = min(band["high"], figure.ceiling)
        rows.append({"value": value, "band": band, "flag": _flag(value, band, figure.better),
                     "learning": value is not None and band is None and figure.judged})
        if value is not None:
            earlier.append(value)
    return rows


def _number_option(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < minimum:
        raise AnsibleFilterError(f"dbl_baseline_trend: {name} must be a number of at least {minimum}, got {value!r}")
    return value


def baseline_trend(history, k=3.0, window=20, min_points=5, floor_pct=10.0, rows=30):
    """The trend of a host's baselines (dbl_parse_baselines' list): per figure, per point, regressions, charts.

    rows: how many of the newest baselines and regressions the report lists (0: all); the figures
    and charts always cover every baseline.
    """
    if not isinstance(history, list) or not history:
        raise AnsibleFilterError("dbl_baseline_trend: expected a non-empty list of baselines (dbl_parse_baselines)")
    k = _number_option(k, "k", 0)
    window = int(_number_option(window, "window", 1))
    min_points = int(_number_option(min_points, "min_points", 1))
    floor_pct = _number_option(floor_pct, "floor_pct", 0)
    rows = int(_number_option(rows, "rows", 0))
    if any(not isinstance(p, dict) or not isinstance(p.get("summary"), dict) for p in history):
        raise AnsibleFilterError(
            "dbl_baseline_trend: every baseline needs a summary (read them with dbl_parse_baselines)")
    # One plain copy of each baseline: every later step reads them many times (Ansible hands a
    # filter the previous filter's output in containers that are slower to read).
    points = sorted(({**p, "summary": {m: p["summary"].get(m) for m in METRICS}} for p in history),
                    key=lambda p: p["measured_at"])

    figures, regressions = [], []
    flags = [{} for _ in points]
    for metric, figure in METRICS.items():
        series = _series(points, metric, figure, k, window, min_points, floor_pct)
        measured = [row["value"] for row in series if row["value"] is not None]
        for point, row, point_flags in zip(points, series, flags, strict=True):
            point_flags[metric] = row["flag"]
            if row["flag"] == "regression":
                regressions.append({"measured_at": point["measured_at"], "metric": metric, "label": figure.label,
                                    "value": row["value"], "low": row["band"]["low"], "high": row["band"]["high"],
                                    "median": row["band"]["median"],
                                    "delta_pct": delta_pct(row["value"], row["band"]["median"])})
        last = series[-1]
        figures.append({
            "metric": metric, "label": figure.label, "better": figure.better, "measured": len(measured),
            "floor": figure.noise_floor if figure.judged else None,
            "first": measured[0] if measured else None,
            "previous": measured[-2] if len(measured) > 1 else None,
            "last": last["value"],
            "median": statistics.median(measured) if measured else None,
            "delta_pct": delta_pct(last["value"], measured[-2] if len(measured) > 1 else None),
            "delta_first_pct": delta_pct(last["value"], measured[0] if len(measured) > 1 else None),
            "band": last["band"],
            "flag": last["flag"] or ("learning" if last["learning"] else ""),
            "regressions": sum(1 for row in series if row["flag"] == "regression"),
            "chart": _chart(figure, points, metric),
        })

    shown = points[-rows:] if rows else points
    newest_regressions = sorted(regressions, key=lambda r: r["measured_at"], reverse=True)
    first_shown = len(points) - len(shown)
    newest = points[-1]
    return {
        "host": newest.get("host"), "service": newest.get("service"), "environment": newest.get("environment"),
        "count": len(points), "first_measured_at": points[0]["measured_at"], "last_measured_at": newest["measured_at"],
        "band_rule": {"k": k, "window": window, "min_points": min_points, "floor_pct": floor_pct},
        "figures": figures,
        "regression_count": len(regressions),
        "regressions": newest_regressions[:rows] if rows else newest_regressions,
        "table": [dict(p, number=first_shown + n + 1, flags=flags[first_shown + n]) for n, p in enumerate(shown)],
    }


class FilterModule:
    def filters(self):
        return {
            "dbl_parse_baselines": parse_baselines,
            "dbl_baseline_head": baseline_head,
            "dbl_noise_band": noise_band,
            "dbl_baseline_trend": baseline_trend,
        }
