#!/usr/bin/env python3
"""http_load's ceiling against wrk's, at concurrency 100 on the same endpoint (issue 4's goal).

The goal: http_load reaches at least 0.8x wrk's requests per second, with its p50 latency within
20 % of wrk's. Each run loads the endpoint with wrk, then with http_load (alternating which goes
first), for the same duration and concurrency; the script prints each run's figures, the CPU
seconds each load generator used, and the median ratios. It asserts nothing.

wrk comes from Debian (``apt-get install -y wrk``). It cannot resolve a name to a chosen address,
so it gets the address in its URL and the name in a Host header (its SNI is then the address,
which nginx's default server accepts). http_load runs in this process, as the module would.

Run it against a demo target, through nginx and TLS (the published port is the second number
``testbed/target ports NAME`` prints):

    testbed/target up bench --inventory /tmp/bench/host_vars/bench.yml
    printf 'all: {children: {erp: {hosts: {bench: {}}}}}\\n' > /tmp/bench/hosts.yml
    .venv/bin/ansible-playbook -i /tmp/bench/hosts.yml playbooks/demo_target.yml
    PORT=$(testbed/target ports bench | cut -d' ' -f2)
    .venv/bin/python bench/load_ceiling.py --url https://erp.demo.test:$PORT/health \\
        --resolve erp.demo.test:$PORT:127.0.0.1 --insecure
    testbed/target down bench

Keep runs short on a shared machine: the defaults take about 3 x 2 x 5 s.
"""

import argparse
import re
import resource
import runpy
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT / "library"))
runpy.run_path(str(PROJECT / "module_utils" / "on_controller.py"))
import http_load
from ansible.module_utils.baseline_http import parse_resolve, parse_url, route_for
from benchlib import Row, verdict, write_rows

WRK_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(args) -> dict:
    target = parse_url(args.url)
    route = route_for(target, parse_resolve(args.resolve))
    url = f"{target.scheme}://{route.address}:{route.port}{target.path}"
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.concurrency}", f"-d{args.duration}s", "--latency",
               "-H", f"Host: {target.host_header}", url]
    cpu = children_cpu_s()
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    value, unit = re.search(r"50%\s+([0-9.]+)(us|ms|s)\b", out).groups()
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    return {"rps": rps, "p50_ms": float(value) * WRK_UNITS_MS[unit], "cpu_s": children_cpu_s() - cpu,
            "errors": errors.group(0) if errors else ""}


def run_http_load(args) -> dict:
    params = {"url": args.url, "method": "GET", "headers": {}, "body": None, "status_code": [200],
              "concurrency": args.concurrency, "requests": None, "duration_s": float(args.duration),
              "rate_rps": None, "max_duration_s": float(args.duration), "timeout_s": 10.0,
              "validate_certs": not args.insecure, "ca_path": args.cacert, "resolve": args.resolve,
              "progress_file": None, "progress_interval_s": 5.0}
    cpu = time.process_time()
    result = http_load.run_load(http_load.build_plan(params))
    errors = {kind: count for kind, count in result["errors"].items() if count}
    return {"rps": result["rps"], "p50_ms": result["latency"]["p50_ms"], "cpu_s": time.process_time() - cpu,
            "errors": str(errors) if errors else ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--resolve", action="append", default=[], help="HOST:PORT:ADDRESS, as curl's")
    parser.add_argument("--insecure", action="store_true", help="do not verify the certificate")
    parser.add_argument("--cacert", help="PEM file of the CA (or self-signed certificate) to trust")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load test")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--rows", help="write the table's rows there (JSON), for bench/run")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    print(f"{args.url}: {args.runs} runs, concurrency {args.concurrency}, {args.duration} s each")
    print(f"{'run':>3}  {'tool':<9}  {'rps':>8}  {'p50 ms':>8}  {'cpu s':>6}  errors")
    rps_ratios, p50_ratios, runs = [], [], []
    for run in range(args.runs):
        order = [("wrk", run_wrk), ("http_load", run_http_load)]
        if run % 2:
            order.reverse()
        figures = {}
        for name, measure in order:
            figures[name] = measure(args)
            f = figures[name]
            print(f"{run + 1:>3}  {name:<9}  {f['rps']:>8.1f}  {f['p50_ms']:>8.2f}  {f['cpu_s']:>6.2f}  {f['errors']}")
        runs.append(figures)
        rps_ratios.append(figures["http_load"]["rps"] / figures["wrk"]["rps"])
        p50_ratios.append(figures["http_load"]["p50_ms"] / figures["wrk"]["p50_ms"])
        print(f"{run + 1:>3}  ratio      {rps_ratios[-1]:>8.3f}  {p50_ratios[-1]:>8.3f}")

    rps_ratio, p50_ratio = statistics.median(rps_ratios), statistics.median(p50_ratios)
    print(f"median ratio http_load / wrk: rps {rps_ratio:.3f} (goal >= 0.8: "
          f"{'met' if rps_ratio >= 0.8 else 'missed'}), p50 {p50_ratio:.3f} (goal within 0.8-1.2: "
          f"{'met' if 0.8 <= p50_ratio <= 1.2 else 'missed'})")

    def medians(tool, figure):
        return statistics.median(run[tool][figure] for run in runs)

    rps, wrk_rps = medians("http_load", "rps"), medians("wrk", "rps")
    p50, wrk_p50 = medians("http_load", "p50_ms"), medians("wrk", "p50_ms")
    print(f"ratio of the medians: rps {rps / wrk_rps:.3f}, p50 {p50 / wrk_p50:.3f}")
    write_rows(args.rows, [
        Row(f"load ceiling: rps at concurrency {args.concurrency} vs wrk", f"{rps:.0f} rps", f"{wrk_rps:.0f} rps",
            f"{rps / wrk_rps:.2f}x", ">= 0.8x", verdict(rps / wrk_rps >= 0.8)),
        Row(f"load ceiling: p50 at concurrency {args.concurrency} vs wrk", f"{p50:.2f} ms", f"{wrk_p50:.2f} ms",
            f"{p50 / wrk_p50:.2f}x", "0.8-1.2x", verdict(0.8 <= p50 / wrk_p50 <= 1.2)),
    ])


if __name__ == "__main__":
    main()
