#!/usr/bin/env python3
"""How close http_probe's warm median is to curl's, on the same endpoint (issues 4 and 8).

The goals: the probe's warm p50 stays within max(1 ms, 10 %) of the median of curl's
``%{time_total}`` for requests on a reused connection, and the probe's cold phases (dns, connect,
tls, ttfb) add up to its cold total: what is left is reading the rest of the response after its
first byte, small for a small answer, and never negative. Each run takes both readings back to back,
in alternating order; curl gets all its URLs on one command line, so it reuses one connection as the
probe does, and its first (cold) reading is dropped. Both medians are nearest-rank, as the probe's.
The script prints figures; it asserts nothing.

Run it against a demo target, through nginx and TLS (the published port is the second number
``testbed/target ports NAME`` prints):

    testbed/target up bench --inventory /tmp/bench/host_vars/bench.yml
    printf 'all: {children: {erp: {hosts: {bench: {}}}}}\\n' > /tmp/bench/hosts.yml
    .venv/bin/ansible-playbook -i /tmp/bench/hosts.yml playbooks/demo_target.yml
    PORT=$(testbed/target ports bench | cut -d' ' -f2)
    .venv/bin/python bench/probe_fidelity.py --url https://erp.demo.test:$PORT/health \\
        --resolve erp.demo.test:$PORT:127.0.0.1 --insecure
    testbed/target down bench

or against any local server, e.g. ``--url http://127.0.0.1:8002/health``.
"""

import argparse
import runpy
import statistics
import subprocess
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
runpy.run_path(str(PROJECT / "module_utils" / "on_controller.py"))
from ansible.module_utils.baseline_http import parse_resolve, percentile, tls_context
from ansible.module_utils.baseline_probe import probe_endpoint
from benchlib import Row, verdict, write_rows

COLD_PHASES = ("dns_ms", "connect_ms", "tls_ms", "ttfb_ms")
# The cold phases add up when at least this share of the cold total is accounted for (median of the runs).
COLD_ACCOUNTED_MIN = 0.95


def probe(args) -> dict:
    endpoint = {"name": "bench", "url": args.url, "method": "GET", "status_code": [200], "headers": {},
                "body": None, "return_body": False}
    params = {"validate_certs": not args.insecure, "ca_path": args.cacert, "timeout_s": 10.0,
              "warm_samples": args.samples}
    context = tls_context(not args.insecure, args.cacert)
    result = probe_endpoint(endpoint, parse_resolve(args.resolve), context, params, check_mode=False)
    if result["error"] or result["warm"]["samples"] != args.samples:
        raise SystemExit(f"probe failed: {result['error'] or result['warm']['error']}")
    return result


def cold_phases_ms(cold: dict) -> float:
    """The sum of a cold request's phases (a phase that does not apply, as tls for http, is null)."""
    return sum(cold[phase] or 0.0 for phase in COLD_PHASES)


def curl_p50_ms(args) -> float:
    command = ["curl", "-sS", "--http1.1", "-w", "%{time_total} %{num_connects}\n"]
    for rule in args.resolve:
        command += ["--resolve", rule]
    if args.insecure:
        command.append("-k")
    if args.cacert:
        command += ["--cacert", args.cacert]
    for _ in range(args.samples + 1):
        command += ["-o", "/dev/null", args.url]
    lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.split()
    readings = [(float(lines[i]), int(lines[i + 1])) for i in range(0, len(lines), 2)]
    warm = [seconds * 1000 for seconds, connects in readings[1:] if connects == 0]
    if len(warm) != args.samples:
        raise SystemExit(f"curl opened new connections: {args.samples - len(warm)} warm readings missing")
    return percentile(sorted(warm), 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--resolve", action="append", default=[], help="HOST:PORT:ADDRESS, as curl's")
    parser.add_argument("--insecure", action="store_true", help="do not verify the certificate")
    parser.add_argument("--cacert", help="PEM file of the CA (or self-signed certificate) to trust")
    parser.add_argument("--samples", type=int, default=50, help="warm requests per reading")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rows", help="write the table's rows there (JSON), for bench/run")
    args = parser.parse_args()

    print(f"{args.url}: {args.runs} runs of {args.samples} warm requests each, probe and curl back to back")
    print(f"{'run':>3}  {'probe p50 ms':>12}  {'curl p50 ms':>11}  {'diff ms':>8}  {'ratio':>6}")
    probe_runs, curl_runs, colds = [], [], []
    for run in range(args.runs):
        if run % 2:
            curl_ms, result = curl_p50_ms(args), probe(args)
        else:
            result, curl_ms = probe(args), curl_p50_ms(args)
        probe_ms = result["warm"]["p50_ms"]
        colds.append(result["cold"])
        probe_runs.append(probe_ms)
        curl_runs.append(curl_ms)
        diff, ratio = probe_ms - curl_ms, probe_ms / curl_ms
        print(f"{run + 1:>3}  {probe_ms:>12.3f}  {curl_ms:>11.3f}  {diff:>+8.3f}  {ratio:>6.3f}")

    probe_ms, curl_ms = statistics.median(probe_runs), statistics.median(curl_runs)
    allowed = max(1.0, 0.10 * curl_ms)
    print(f"median over runs: probe {probe_ms:.3f} ms, curl {curl_ms:.3f} ms, "
          f"difference {probe_ms - curl_ms:+.3f} ms, ratio {probe_ms / curl_ms:.3f}")
    warm_met = abs(probe_ms - curl_ms) <= allowed
    print(f"goal: |difference| <= max(1 ms, 10 % of curl) = {allowed:.3f} ms -> {'met' if warm_met else 'missed'}")

    print(f"\ncold request of each run: {' + '.join(COLD_PHASES)} against total_ms")
    for number, cold in enumerate(colds, 1):
        phases = " + ".join(f"{cold[phase] or 0.0:.3f}" for phase in COLD_PHASES)
        print(f"{number:>3}  {phases} = {cold_phases_ms(cold):.3f} of {cold['total_ms']:.3f} ms")
    phases_ms = statistics.median(cold_phases_ms(cold) for cold in colds)
    total_ms = statistics.median(cold["total_ms"] for cold in colds)
    accounted = [cold_phases_ms(cold) / cold["total_ms"] for cold in colds]
    # The median share, as for every figure here: one run descheduled while reading the body (the
    # part after the first byte, which no phase counts) would say nothing about the probe. Each
    # phase is rounded to the microsecond, so their sum may pass the total by a few of them, no more.
    cold_met = (statistics.median(accounted) >= COLD_ACCOUNTED_MIN
                and all(cold_phases_ms(cold) <= cold["total_ms"] + 0.005 for cold in colds))

    write_rows(args.rows, [
        Row("probe fidelity: warm p50 vs curl time_total", f"{probe_ms:.3f} ms", f"{curl_ms:.3f} ms",
            f"{probe_ms / curl_ms:.3f}x", f"diff within {allowed:.2f} ms", verdict(warm_met)),
        Row("probe fidelity: cold phases sum vs cold total", f"{phases_ms:.3f} ms", f"{total_ms:.3f} ms",
            f"{statistics.median(accounted):.3f}x", f"{COLD_ACCOUNTED_MIN:g}-1x, never over", verdict(cold_met)),
    ])


if __name__ == "__main__":
    main()
