"""When a summary figure moved by more than noise: the rule the trend's bands and the comparison
with the previous baseline share. Pure helpers, standard library only.

A figure is compared with a reference (the trend: the median of its earlier values; the report:
its previous value) within a band whose half-width is the largest of
  - its relative noise floor: floor_pct % of the reference (baseline_noise_pct, trend_band_floor_pct);
  - its absolute noise floor, in the figure's own unit (module_utils/baseline_catalogue.py): what
    it moves by itself between two runs on a shared host (a 1.2 ms swing of a 5 ms response is not
    a regression a person would act on, nor a few MiB of a Python process' memory);
  - for the trend, k x 1.4826 x the median absolute deviation of the earlier values (1.4826 x MAD
    estimates the standard deviation of normal noise).
A figure is not judged until enough earlier values exist (trend_band_min_points,
baseline_noise_min_baselines): before that, its noise is not known. A value on a band's edge is
within it. Used on the controller by filter_plugins/trend.py and module_utils/baseline_record.py.
"""

from __future__ import annotations

import statistics

MAD_TO_SIGMA = 1.4826


def half_width(reference: float, floor_pct: float, floor: float, spread: float = 0.0) -> float:
    """A band's half-width around reference: spread, and at least floor_pct % of it plus the absolute floor.

    The two floors add up, as a measuring instrument's accuracy does (± 10 % of the reading + 1 ms):
    the relative one is what the figure's own size brings, the absolute one the host's jitter.
    """
    return max(spread, floor_pct / 100 * abs(reference) + floor)


def band(earlier: list, k: float, floor_pct: float, floor: float = 0.0) -> dict:
    """{median, low, high, mad, points} of earlier values (not empty): the median +- the half-width.

    low never goes below 0: every summary figure is a size, a time, a rate or a count.
    """
    median = statistics.median(earlier)
    mad = statistics.median([abs(v - median) for v in earlier])
    half = half_width(median, floor_pct, floor, k * MAD_TO_SIGMA * mad)
    return {"median": median, "low": max(median - half, 0), "high": median + half, "mad": mad,
            "points": len(earlier)}


def moved(value: float, low: float, high: float, better: str) -> str:
    """worse / better / within for a value against a band [low, high] (its edges are within)."""
    if value > high:
        return "worse" if better == "lower" else "better"
    if value < low:
        return "worse" if better == "higher" else "better"
    return "within"
