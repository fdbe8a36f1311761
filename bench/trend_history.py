#!/usr/bin/env python3
"""How long playbooks/trend.yml takes over a host's history of N baselines (issue 8's goal).

The goal: rendering the trend over 1,000 stored baselines stays under a few seconds and grows
linearly with N. The script writes N synthetic baselines of one host into a temporary report
folder, each a whole baseline record as baseline.yml writes it (built by the baseline_record filter
from the recorded module results in tests/fixtures/results, its summary figures varied with
seeded noise and two step changes, its file ~25 KiB), checks each against
schemas/baseline.schema.json, then runs `ansible-playbook playbooks/trend.yml` on them as a user
would and times it. It also times the two filters alone (reading and computing, no Ansible) and
an Ansible run over a single baseline, the fixed cost of any run. It prints figures; it asserts
nothing.

    .venv/bin/python bench/trend_history.py [--sizes 100 1000] [--repeat 3]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "filter_plugins"))
import jsonschema
import yaml
from ansible.plugins.filter.core import to_nice_yaml
from baseline import FilterModule as BaselineFilters
from trend import FilterModule as TrendFilters

HOST = "bench"
FIXTURES = PROJECT / "tests" / "fixtures" / "results"
ROLE = PROJECT / "roles" / "baseline"


def template_record():
    """One whole baseline record from the recorded module results, as the role builds it."""
    def recorded(module):
        return json.loads((FIXTURES / f"{module}.json").read_text())

    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    results = {"units": recorded("systemd_unit_facts"), "journal": recorded("journal_errors"),
               "redis": recorded("redis_facts"), "postgres": recorded("postgres_facts"),
               "http_local": {"skipped": True}, "http_public": recorded("http_probe"),
               "load": recorded("http_load")}
    context = {"host": HOST, "environment": "bench", "service": "tsh_erp", "color": "green",
               "measured_at": "2026-01-01T00:00:00Z", "public_url": "https://erp.demo.test",
               "unreachable_reason": "", "thresholds": defaults["baseline_thresholds"],
               "targets": defaults["baseline_targets"],
               "known_issues": yaml.safe_load((ROLE / "files" / "known_issues.yml").read_text()),
               "history": [], "noise_pct": 10}
    return BaselineFilters().filters()["dbl_baseline_record"](results, context)


def summary_at(number, count, rng):
    """Summary figures of baseline `number` of `count`: noise around a level, steps at 60 % and 85 %.

    At 60 % the API gets slower; at 85 % the app's memory grows and it logs more errors.
    """
    slower = 1.6 if number >= 0.6 * count else 1.0
    leak = 1.3 if number >= 0.85 * count else 1.0
    return {
        "api_response_time_cold_ms": round(rng.gauss(8.5, 0.6) * slower, 3),
        "api_response_time_warm_ms": round(rng.gauss(2.0, 0.15) * slower, 3),
        "cache_hit_rate_pct": round(min(100.0, rng.gauss(95, 1.5)), 2),
        "cache_memory_bytes": int(rng.gauss(1_020_000, 8_000)),
        "app_memory_bytes": int(rng.gauss(60_000_000, 400_000) * leak),
        "app_cpu_avg_pct": round(abs(rng.gauss(0.3, 0.03)), 2),
        "uptime_s": round(600 + 3600 * (number % 24) + rng.random(), 1),
        "error_count": 3 if number >= 0.85 * count else 1,
    }


def write_history(folder, count, record, schema):
    """N baselines of HOST in folder/HOST/, one hour apart, each validated against the schema."""
    host_dir = folder / HOST
    host_dir.mkdir(parents=True)
    rng = random.Random(8)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    validator = jsonschema.Draft202012Validator(schema)
    for number in range(count):
        measured_at = (start + timedelta(hours=number)).strftime("%Y-%m-%dT%H:%M:%SZ")
        baseline = dict(record, measured_at=measured_at, summary=summary_at(number, count, rng))
        validator.validate(baseline)
        text = (f"# deploy-baseline record of {HOST} at {measured_at}\n# (schemas/baseline.schema.json describes it)\n"
                + to_nice_yaml(baseline, indent=2, sort_keys=False))
        (host_dir / f"{measured_at.replace('-', '').replace(':', '')}.yml").write_text(text)
    return host_dir


def run_trend(folder, inventory, env):
    started = time.perf_counter()
    subprocess.run(["ansible-playbook", str(PROJECT / "playbooks" / "trend.yml"), "-i", str(inventory),
                    "-e", f"trend_report_dir={folder}"], check=True, env=env, capture_output=True)
    return time.perf_counter() - started


def filters_only(host_dir):
    """Seconds baseline_history and baseline_trend take in-process, without Ansible."""
    filters = TrendFilters().filters()
    paths = sorted(str(p) for p in host_dir.glob("*Z.yml"))
    started = time.perf_counter()
    texts = [Path(p).read_text() for p in paths]
    history = filters["dbl_parse_baselines"](texts, paths)
    filters["dbl_baseline_trend"](history)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is printed")
    args = parser.parse_args()

    schema = json.loads((PROJECT / "schemas" / "baseline.schema.json").read_text())
    record = template_record()
    with tempfile.TemporaryDirectory(prefix="trend-bench-") as tmp:
        tmp = Path(tmp)
        inventory = tmp / "hosts.yml"
        inventory.write_text(f"all: {{hosts: {{{HOST}: {{ansible_connection: local}}}}}}\n")
        env = dict(os.environ, ANSIBLE_CONFIG=str(PROJECT / "ansible.cfg"), ANSIBLE_HOME=str(tmp / "ansible-home"))
        print(f"{'N':>6} {'files MiB':>10} {'playbook s':>11} {'filters s':>10} {'ms per baseline':>16}")
        timings = {}
        for count in [1, *args.sizes]:
            folder = tmp / f"reports-{count}"
            host_dir = write_history(folder, count, record, schema)
            size = sum(p.stat().st_size for p in host_dir.glob("*Z.yml")) / 2**20
            playbook = statistics.median(run_trend(folder, inventory, env) for _ in range(args.repeat))
            filters = statistics.median(filters_only(host_dir) for _ in range(args.repeat))
            timings[count] = playbook
            print(f"{count:>6} {size:>10.1f} {playbook:>11.2f} {filters:>10.3f} {playbook / count * 1000:>16.2f}")
        fixed = timings[1]
        print(f"\nfixed cost of a run (N = 1): {fixed:.2f} s")
        for count in args.sizes:
            marginal_ms = (timings[count] - fixed) / (count - 1) * 1000
            print(f"N = {count}: {marginal_ms:.2f} ms per baseline beyond the fixed cost")


if __name__ == "__main__":
    main()
