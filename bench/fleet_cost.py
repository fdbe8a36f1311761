#!/usr/bin/env python3
"""A fleet: the baseline's fact-gathering part on 1, 5 and 20 demo targets at once, against ping.

The goal (issue 8): with 20 demo targets at once, the fact-gathering part costs at most 2x
`ansible all -m ping` on the same 20 (the floor: one round trip per host), and the script shows
how the cost grows from 1 to 5 to 20 hosts. The fact-gathering part is the baseline role's gather
tasks run alone (bench/gather_only.yml: the same modules with the same variables, nothing judged
or written). At each size, both run in turn on the first N targets (a ping first, so that every
host's SSH connection is open, then rounds alternating which goes first); the figure
is the ratio of the medians. Every gather run records its tasks' times (the task_times callback),
so the script also prints how each task's span grows with the fleet. With --with-baseline, a full
baseline.yml run joins the rounds. It prints figures; it asserts nothing.

    .venv/bin/python bench/fleet_cost.py [--sizes 1 5 20] [--runs 5] [--with-baseline]

The targets (testbed/target up bench-1 ... bench-20, started --parallel at a time, then
configured together by playbooks/demo_target.yml) need about 100 MB of memory each; they are
removed at the end, also after an error or CTRL-C.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from benchlib import (
    PROJECT,
    DemoTargets,
    Row,
    Timing,
    ansible_env,
    ignored_failures,
    interleaved,
    median,
    timed,
    tool,
    verdict,
    write_rows,
)

GOAL_RATIO = 2.0


class Bench:
    def __init__(self, inventory: Path, work: Path):
        self.inventory, self.work = inventory, work
        self.count = 0
        # A run of several hosts writes the fleet summary to <report dir>/fleet, which the role does
        # not create (yet): without it that task fails on a fresh report folder.
        (work / "reports" / "fleet").mkdir(parents=True)

    def gather(self, limit: str) -> tuple[Timing, dict]:
        self.count += 1
        times = self.work / f"tasks-{self.count}.json"
        timing = timed([tool("ansible-playbook"), str(PROJECT / "bench" / "gather_only.yml"), "-i",
                        str(self.inventory), "--limit", limit],
                       env=ansible_env(self.work / "ansible-home", times), log=self.work / "gather.log")
        if ignored_failures(self.work / "gather.log"):
            raise SystemExit(f"a gather task failed on the targets (--limit {limit}):\n"
                             + (self.work / "gather.log").read_text()[-3000:])
        return timing, json.loads(times.read_text())

    def ping(self, limit: str) -> Timing:
        return timed([tool("ansible"), "all", "-i", str(self.inventory), "--limit", limit,
                      "-m", "ansible.builtin.ping"],
                     env=ansible_env(self.work / "ansible-home"), log=self.work / "ping.log")

    def baseline(self, limit: str) -> Timing:
        return timed([tool("ansible-playbook"), str(PROJECT / "baseline.yml"), "-i", str(self.inventory),
                      "--limit", limit, "-e", f"baseline_report_dir={self.work / 'reports'}",
                      "-e", '{"baseline_concurrency_test": false}'],
                     env=ansible_env(self.work / "ansible-home"), log=self.work / "baseline.log")


def task_spans(times: dict) -> dict[str, float]:
    """Each task's span: from its start to its last host's end."""
    spans = {}
    for task in times["tasks"]:
        ends = [h["end"] for h in task["hosts"].values() if "end" in h]
        spans[task["name"].split(" : ", 1)[-1]] = max(ends, default=task["start"]) - task["start"]
    return spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 20], help="fleet sizes, the last the goal's")
    parser.add_argument("--runs", type=int, default=3, help="kept rounds at each size")
    parser.add_argument("--parallel", type=int, default=10, help="targets started at a time")
    parser.add_argument("--with-baseline", action="store_true", help="also time full baseline.yml runs")
    parser.add_argument("--rows", help="write the table's rows there (JSON), for bench/run")
    args = parser.parse_args()

    names = [f"bench-{number}" for number in range(1, max(args.sizes) + 1)]
    figures, cpu, spans = {}, {}, {}
    with DemoTargets(names, parallel=args.parallel) as targets, \
            tempfile.TemporaryDirectory(prefix="bench-fleet-") as work:
        bench = Bench(targets.inventory, Path(work))
        for size in args.sizes:
            limit = ",".join(names[:size])
            variants = {"gather": lambda limit=limit: bench.gather(limit),
                        "ping": lambda limit=limit: bench.ping(limit)}
            if args.with_baseline:
                variants["baseline"] = lambda limit=limit: bench.baseline(limit)
            started = time.monotonic()
            print(f"\n{size} host(s): {', '.join(variants)}; {args.runs} rounds after a ping of every host")

            def show(number, name, result):
                timing = result[0] if isinstance(result, tuple) else result
                print(f"  round {number}  {name:<8}  {timing.wall_s:>6.2f} s wall  "
                      f"{timing.cpu_s:>6.2f} s controller CPU", flush=True)

            # A ping first opens every host's SSH connection; both then run on open connections.
            results = interleaved(variants, args.runs, warmup=["ping"], report=show)
            timings = {name: [r[0] if isinstance(r, tuple) else r for r in runs] for name, runs in results.items()}
            figures[size] = {name: median(t.wall_s for t in runs) for name, runs in timings.items()}
            cpu[size] = {name: median(t.cpu_s for t in runs) for name, runs in timings.items()}
            per_run = [task_spans(times) for _, times in results["gather"]]
            spans[size] = {task: median(run.get(task, 0.0) for run in per_run) for task in per_run[0]}
            ratio = figures[size]["gather"] / figures[size]["ping"]
            print(f"  medians: gather {figures[size]['gather']:.2f} s, ping {figures[size]['ping']:.2f} s, "
                  f"ratio {ratio:.2f}  [{time.monotonic() - started:.0f} s]")

    sizes = args.sizes
    print("\nMedian seconds by fleet size (and against 1 host)")
    print(f"{'what':<44}" + "".join(f"{size:>14}" for size in sizes))
    for what in figures[sizes[0]]:
        first = figures[sizes[0]][what]
        print(f"{what:<44}" + "".join(f"{figures[s][what]:>7.2f} ({figures[s][what] / first:>3.1f}x)" for s in sizes))
    print(f"{'gather / ping':<44}" + "".join(f"{figures[s]['gather'] / figures[s]['ping']:>13.2f}x" for s in sizes))
    print("Controller CPU seconds (ansible's processes, its local modules, ssh clients; the targets' CPU apart)")
    for what in cpu[sizes[0]]:
        print(f"{what:<44}" + "".join(f"{cpu[s][what]:>14.2f}" for s in sizes))
    largest = sizes[-1]
    print(f"per host at {largest}: gather {cpu[largest]['gather'] / largest:.2f} s, "
          f"ping {cpu[largest]['ping'] / largest:.2f} s of controller CPU; the targets share this machine's cores, "
          "so their modules' CPU adds to the wall time")
    print("\nEach gather task's span, from its start to its last host's end (median seconds)")
    for task in spans[sizes[0]]:
        print(f"{task[:44]:<44}" + "".join(f"{spans[s].get(task, 0.0):>14.2f}" for s in sizes))

    rows = []
    for size in sizes:
        gather, ping = figures[size]["gather"], figures[size]["ping"]
        goal = size == sizes[-1]
        rows.append(Row(f"fleet of {size}: gather part / ansible all -m ping", f"{gather:.2f} s", f"{ping:.2f} s",
                        f"{gather / ping:.2f}x", f"<= {GOAL_RATIO:g}x" if goal else "-",
                        verdict(gather / ping <= GOAL_RATIO if goal else None)))

    def growth(what):
        return " : ".join(f"{figures[s][what] / figures[sizes[0]][what]:.1f}" for s in sizes)

    rows.append(Row(f"fleet growth {' -> '.join(map(str, sizes))} hosts (gather; ping)", growth("gather"),
                    growth("ping"), "-", "-", verdict(None)))
    rows.append(Row(f"fleet of {largest}: controller CPU, gather / ping (context)", f"{cpu[largest]['gather']:.2f} s",
                    f"{cpu[largest]['ping']:.2f} s", f"{cpu[largest]['gather'] / cpu[largest]['ping']:.2f}x", "-",
                    verdict(None)))
    if args.with_baseline:
        rows.append(Row(f"fleet growth {' -> '.join(map(str, sizes))} hosts (baseline.yml; ping)",
                        growth("baseline"), growth("ping"), "-", "-", verdict(None)))
    write_rows(args.rows, rows)


if __name__ == "__main__":
    main()
