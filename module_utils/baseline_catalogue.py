"""The catalogue of a baseline's summary figures, and how a person reads a figure. Pure, standard library only.

Every summary figure is written here once: its key in the record's summary, the label a person
reads, its unit, which way is better, its absolute noise floor (module_utils/baseline_noise.py),
its Prometheus metric (filter_plugins/metrics.py), its trend chart (filter_plugins/trend.py) and
how a service's figure is made of its hosts' (module_utils/baseline_service.py).
The record (module_utils/baseline_record.py), the comparison, the trend, the export and the JSON
Schema's summary (schemas/baseline.schema.json, checked by tests/unit/test_catalogue.py) follow
it, in its order.
"""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024

# How the hosts' values of a figure make the service's: their total, their mean, the highest, the
# lowest (module_utils/baseline_service.py computes each, over the hosts that measured the figure).
ACROSS_HOSTS = ("sum", "mean", "max", "min")


@dataclass(frozen=True)
class Metric:
    """One summary figure of a baseline."""

    key: str  # its name in the record's summary, with its unit
    label: str
    unit: str  # ms, %, bytes, s or count: how the record holds it and a person reads it
    better: str  # lower, higher, or none (not judged: it grows by itself between runs)
    # Absolute noise floor, in the figure's unit: what it moves by itself between two runs on a
    # shared host (module_utils/baseline_noise.py).
    noise_floor: float
    prometheus_name: str  # without the export's prefix (deploy_baseline_)
    prometheus_help: str
    prometheus_divisor: int = 1  # from the record's unit to the metric's base unit
    chart_unit: str = ""  # the trend chart's unit; the figure's own when empty
    chart_divisor: float = 1  # from the record's unit to the chart's
    ceiling: float | None = None  # the largest value the figure can take
    # The service's figures made of its hosts' values (ACROSS_HOSTS), in the order the report shows them.
    across_hosts: tuple[str, ...] = ()

    def __post_init__(self):
        unknown = [how for how in self.across_hosts if how not in ACROSS_HOSTS]
        if not self.across_hosts or unknown:
            raise ValueError(f"{self.key}: across_hosts needs one or more of {ACROSS_HOSTS}, got {self.across_hosts!r}")

    @property
    def judged(self) -> bool:
        """Whether a change of the figure can be a regression."""
        return self.better != "none"


# The floors were chosen from the demo's baselines on a loaded 2-core machine (tests/fixtures/history):
# flat histories move by these amounts from run to run.
CATALOGUE = (
    Metric("api_response_time_cold_ms", "API response (cold)", "ms", "lower",
           1.0,  # a new connection's time swings by a millisecond or more under load
           "api_response_cold_seconds",
           "Mean cold response time of the endpoints that answered (new connection, every phase).", 1000,
           across_hosts=("mean", "max")),
    Metric("api_response_time_warm_ms", "API response (warm p50)", "ms", "lower",
           0.5,  # a reused connection's answer is steadier
           "api_response_warm_p50_seconds",
           "Mean of the endpoints' median warm response times (reused connection).", 1000,
           across_hosts=("mean", "max")),
    Metric("cache_hit_rate_pct", "Cache hit rate", "%", "higher",
           2.0,  # percentage points
           "cache_hit_ratio", "Redis keyspace hits per lookup since Redis started (0 to 1).", 100, ceiling=100,
           across_hosts=("mean", "min")),
    Metric("cache_memory_bytes", "Redis memory", "bytes", "lower",
           64 * 1024,  # an idle Redis' own buffers; a large one has the relative floor
           "cache_memory_bytes", "Memory used by Redis.", chart_unit="MiB", chart_divisor=MIB,
           # Not summed: the hosts may read one Redis (on a datastore host), which a sum would count once per host.
           across_hosts=("mean", "max")),
    Metric("app_memory_bytes", "Application memory", "bytes", "lower",
           4 * MIB,  # a Python process' heap grows by a few MiB as it serves
           "app_memory_bytes", "Memory used by the live unit's processes.", chart_unit="MiB", chart_divisor=MIB,
           across_hosts=("sum", "max")),
    Metric("app_cpu_avg_pct", "Application CPU (avg)", "%", "lower",
           0.5,  # percentage points: the average since the start moves while the unit warms up
           "app_cpu_ratio",
           "CPU used by the live unit on average since it started, in CPUs (1 is one CPU busy).", 100,
           across_hosts=("sum", "max")),
    Metric("uptime_s", "Uptime", "s", "none",
           0,  # not judged: it grows by itself between runs
           "app_uptime_seconds", "Time since the live unit started.", chart_unit="h", chart_divisor=3600,
           across_hosts=("min",)),  # the host that (re)started last
    Metric("error_count", "Errors since deploy", "count", "lower",
           0,  # a count is exact: one more error is one more error
           "journal_errors", "Errors in the live unit's journal since it started.",
           across_hosts=("sum", "max")),
)

METRICS = {metric.key: metric for metric in CATALOGUE}

_BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"]


def human_bytes(value: float | None) -> str:
    """1536 -> '1.5 KiB'; None -> 'n/a'."""
    if value is None:
        return "n/a"
    size = float(value)
    for unit in _BINARY_UNITS:
        if abs(size) < 1024 or unit == _BINARY_UNITS[-1]:
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_duration(value: float | None) -> str:
    """Seconds as a person says them: 420 -> '7 min', 93784 -> '1 d 2 h'; None -> 'n/a'."""
    if value is None:
        return "n/a"
    seconds = int(value)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {seconds} s" if seconds else "")
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    days, hours = divmod(hours, 24)
    return f"{days} d" + (f" {hours} h" if hours else "")


def human_pct(value: float | None, digits: int = 1) -> str:
    """12.345 -> '12.3 %'; None -> 'n/a'."""
    return "n/a" if value is None else f"{value:.{digits}f} %"


def human_ms(value: float | None, digits: int = 1) -> str:
    """12.345 -> '12.3 ms'; None -> 'n/a'."""
    return "n/a" if value is None else f"{value:.{digits}f} ms"


_HUMAN = {"bytes": human_bytes, "ms": human_ms, "%": human_pct, "s": human_duration}


def human_metric(value: float | None, key: str) -> str:
    """A summary figure as a person reads it, in its metric's unit (KeyError for an unknown metric)."""
    unit = METRICS[key].unit
    if value is None:
        return "n/a"
    return _HUMAN[unit](value) if unit in _HUMAN else str(value)


def delta_pct(current: float | None, previous: float | None) -> float | None:
    """Change from previous to current in %, None when either is missing or previous is 0."""
    if current is None or previous is None or previous == 0:
        return None
    return round((current - previous) / abs(previous) * 100, 1)
