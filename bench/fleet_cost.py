#!/usr/bin/env python3
"""A fleet: the baseline's fact-gathering part on 1, 5, 20 and 100 inventory hosts at once, against ping.

The goals (issues 8 and 15): from 20 hosts on, the fact-gathering part costs at most 2x
`ansible all -m ping` on the same hosts (the floor: one round trip per host), in wall time and in
controller CPU per host, and the script shows how the cost grows with the fleet. The hosts are
inventory names spread in turn over a few demo targets (5 containers by default; 100 names give
20 to each): each name is a host of its own to the controller (its variables, its own SSH
connection and control socket, its own module runs), so the controller does the work of 100
hosts while the machine runs 5 containers. The fact-gathering part is the baseline role's gather
tasks run alone (bench/gather_only.yml: the same modules with the same variables, nothing judged
or written). At each size, both run in turn on the first N hosts (a ping first, so that every
host's SSH connection is open, then rounds alternating which goes first); the figure is the
ratio of the medians, the spread that of the rounds. Every gather run records its tasks' times
and controller CPU (the task_times callback), so the script also prints how each task's span
grows with the fleet and where the controller's CPU per host goes. With --with-baseline, a full
baseline.yml run joins the rounds. With --compare DIR, the gather part and the ping of another
copy of the project, with its configuration (another branch's work tree: `git worktree add
/tmp/main main`, or a copy with another ansible.cfg), join the rounds too, so that a change is
measured against the code before it in the same machine state. It prints figures; it asserts
nothing.

    .venv/bin/python bench/fleet_cost.py [--sizes 1 5 20 100] [--targets 5] [--runs 3] [--with-baseline]
        [--compare DIR]

The targets (testbed/target up bench-c1 ... bench-c5, configured once by playbooks/demo_target.yml
and cloned) need about 100 MB of memory each; they are removed at the end, also after an error or
CTRL-C.
"""

import argparse
import itertools
import json
import shutil
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
    inventory_hosts,
    median,
    timed,
    tool,
    verdict,
    write_rows,
)

GOAL_RATIO = 2.0
GOAL_SIZE = 20  # the goals hold from this many hosts on


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}x"


def alias_inventory(targets: Path, names: list[str], out: Path) -> None:
    """An inventory of `names` spread over the targets in turn (name i on target i mod N).

    Each name is a host of its own to the controller: its own variables, its own SSH connection
    (a control path folder of its own: ControlPersist would otherwise share one master between
    the names of a container), its own module runs; only the container behind it is shared.
    """
    containers = inventory_hosts(targets)
    shutil.copytree(targets / "group_vars", out / "group_vars")
    (out / "host_vars").mkdir()
    for number, name in enumerate(names):
        container = containers[number % len(containers)]
        control_dir = out.parent / "control" / name  # not under the inventory: its sockets are no source
        control_dir.mkdir(parents=True)
        (out / "host_vars" / f"{name}.yml").write_text(
            (targets / "host_vars" / f"{container}.yml").read_text()
            + f"ansible_control_path_dir: {control_dir}\n")
    hosts = ", ".join(f"{name}: {{}}" for name in names)
    (out / "hosts.yml").write_text(f"all: {{children: {{erp: {{hosts: {{{hosts}}}}}}}}}\n")


class Bench:
    def __init__(self, inventory: Path, work: Path):
        self.inventory, self.work = inventory, work
        self.count = 0

    def gather(self, limit: str, project: Path = PROJECT) -> tuple[Timing, dict]:
        self.count += 1
        times = self.work / f"tasks-{self.count}.json"
        timing = timed([tool("ansible-playbook"), str(project / "bench" / "gather_only.yml"), "-i",
                        str(self.inventory), "--limit", limit],
                       env=ansible_env(self.work / "ansible-home", times, project), log=self.work / "gather.log")
        if ignored_failures(self.work / "gather.log"):
            raise SystemExit(f"a gather task failed on the targets (--limit {limit}):\n"
                             + (self.work / "gather.log").read_text()[-3000:])
        return timing, json.loads(times.read_text())

    def ping(self, limit: str, project: Path = PROJECT) -> Timing:
        return timed([tool("ansible"), "all", "-i", str(self.inventory), "--limit", limit,
                      "-m", "ansible.builtin.ping"],
                     env=ansible_env(self.work / "ansible-home", project=project), log=self.work / "ping.log")

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


def task_cpu(times: dict, keys: tuple[str, ...] = ("cpu_self", "cpu_children")) -> dict[str, float]:
    """Each task's controller CPU seconds (the playbook process's and its reaped workers' and ssh
    clients'), from its start to the next task's; "(between tasks, end)" is the rest of the run.
    With keys=("cpu_self",), the playbook process's own share."""
    marks = [("(between tasks, end)", times["playbook_cpu"])]
    marks += [(task["name"].split(" : ", 1)[-1], task) for task in times["tasks"]]
    marks.append(("(between tasks, end)", times["end_cpu"]))
    cpu = {}
    for (name, start), (_, end) in itertools.pairwise(marks):
        spent = sum(end[key] - start[key] for key in keys)
        cpu[name] = cpu.get(name, 0.0) + spent
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 20, 100],
                        help="fleet sizes (inventory hosts); the goal is checked at 20 and above")
    parser.add_argument("--targets", type=int, default=5, help="containers the hosts are spread over")
    parser.add_argument("--runs", type=int, default=3, help="kept rounds at each size")
    parser.add_argument("--with-baseline", action="store_true", help="also time full baseline.yml runs")
    parser.add_argument("--rows", help="write the table's rows there (JSON), for bench/run")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="also time the gather part and the ping of the project's copy in DIR, with its"
                             " ansible.cfg (its '@compare' rows)")
    args = parser.parse_args()
    gathers = ["gather"] + (["gather@compare"] if args.compare else [])
    reference = {"gather": "ping", "gather@compare": "ping@compare"}  # each gather's ping, of its configuration

    names = [f"bench-{number}" for number in range(1, max(args.sizes) + 1)]
    containers = [f"bench-c{number}" for number in range(1, min(args.targets, len(names)) + 1)]
    figures, cpu, spans = {}, {}, {name: {} for name in gathers}
    task_cpus, task_own_cpus = {name: {} for name in gathers}, {name: {} for name in gathers}
    ratios, cpu_ratios = {name: {} for name in gathers}, {name: {} for name in gathers}
    with DemoTargets(containers, parallel=len(containers)) as targets, \
            tempfile.TemporaryDirectory(prefix="bench-fleet-") as work:
        alias_inventory(targets.inventory, names, Path(work) / "inventory")
        bench = Bench(Path(work) / "inventory", Path(work))
        for size in args.sizes:
            limit = ",".join(names[:size])
            variants = {"gather": lambda limit=limit: bench.gather(limit),
                        "ping": lambda limit=limit: bench.ping(limit)}
            if args.compare:
                variants["gather@compare"] = lambda limit=limit: bench.gather(limit, args.compare.resolve())
                variants["ping@compare"] = lambda limit=limit: bench.ping(limit, args.compare.resolve())
            if args.with_baseline:
                variants["baseline"] = lambda limit=limit: bench.baseline(limit)
            started = time.monotonic()
            print(f"\n{size} host(s): {', '.join(variants)}; {args.runs} rounds after a ping of every host")

            def show(number, name, result):
                timing = result[0] if isinstance(result, tuple) else result
                print(f"  round {number}  {name:<8}  {timing.wall_s:>6.2f} s wall  "
                      f"{timing.cpu_s:>6.2f} s controller CPU", flush=True)

            # A ping first opens every host's SSH connection; both then run on open connections.
            results = interleaved(variants, args.runs, warmup=["ping"] + (["ping@compare"] if args.compare else []),
                                  report=show)
            timings = {name: [r[0] if isinstance(r, tuple) else r for r in runs] for name, runs in results.items()}
            figures[size] = {name: median(t.wall_s for t in runs) for name, runs in timings.items()}
            cpu[size] = {name: median(t.cpu_s for t in runs) for name, runs in timings.items()}
            for name in gathers:
                # The spread: gather / ping of each round (its runs side by side).
                ping = reference[name]
                pairs = list(zip(timings[name], timings[ping], strict=True))
                ratios[name][size] = [g.wall_s / p.wall_s for g, p in pairs]
                cpu_ratios[name][size] = [g.cpu_s / p.cpu_s for g, p in pairs]
                per_run = [task_spans(times) for _, times in results[name]]
                spans[name][size] = {task: median(run.get(task, 0.0) for run in per_run) for task in per_run[0]}
                per_run = [task_cpu(times) for _, times in results[name]]
                task_cpus[name][size] = {task: median(run.get(task, 0.0) for run in per_run) for task in per_run[0]}
                per_run = [task_cpu(times, ("cpu_self",)) for _, times in results[name]]
                task_own_cpus[name][size] = {task: median(run.get(task, 0.0) for run in per_run)
                                             for task in per_run[0]}
                print(f"  medians: {name} {figures[size][name]:.2f} s, {ping} {figures[size][ping]:.2f} s, "
                      f"ratio {figures[size][name] / figures[size][ping]:.2f} "
                      f"(rounds {spread(ratios[name][size])}); controller CPU "
                      f"{cpu[size][name] / cpu[size][ping]:.2f}x {ping}'s (rounds {spread(cpu_ratios[name][size])})")
            print(f"  [{time.monotonic() - started:.0f} s]")

    sizes = args.sizes
    print("\nMedian seconds by fleet size (and against 1 host)")
    print(f"{'what':<44}" + "".join(f"{size:>14}" for size in sizes))
    for what in figures[sizes[0]]:
        first = figures[sizes[0]][what]
        print(f"{what:<44}" + "".join(f"{figures[s][what]:>7.2f} ({figures[s][what] / first:>3.1f}x)" for s in sizes))
    for name in gathers:
        ping = reference[name]
        print(f"{name + ' / ' + ping:<44}" + "".join(f"{figures[s][name] / figures[s][ping]:>13.2f}x" for s in sizes))
    print("Controller CPU seconds (ansible's processes, its local modules, ssh clients; the targets' CPU apart)")
    for what in cpu[sizes[0]]:
        print(f"{what:<44}" + "".join(f"{cpu[s][what]:>14.2f}" for s in sizes))
    for size in sizes:
        print(f"per host at {size}: " + ", ".join(f"{name} {cpu[size][name] / size:.3f} s" for name in cpu[size])
              + " of controller CPU")
    print("(the targets share this machine's cores, so their modules' CPU adds to the wall time)")
    for name in gathers:
        print(f"\nEach task's span in {name}, from its start to its last host's end (median seconds)")
        for task in spans[name][sizes[0]]:
            print(f"{task[:44]:<44}" + "".join(f"{spans[name][s].get(task, 0.0):>14.2f}" for s in sizes))

        print(f"\nEach task's controller CPU per host in {name} (median ms; the playbook process and its workers;"
              " in brackets the playbook process's own)")
        for task in task_cpus[name][sizes[0]]:
            per_host = [(task_cpus[name][s].get(task, 0.0) / s, task_own_cpus[name][s].get(task, 0.0) / s)
                        for s in sizes]
            print(f"{task[:44]:<44}" + "".join(f"{every * 1000:>8.0f} ({own * 1000:>3.0f})" for every, own in per_host))
        ping = reference[name]
        print(f"{ping + ': all of it':<44}" + "".join(f"{cpu[s][ping] / s * 1000:>14.0f}" for s in sizes))

    rows = []
    for size in sizes:
        gather, ping = figures[size]["gather"], figures[size]["ping"]
        goal = size >= GOAL_SIZE
        rows.append(Row(f"fleet of {size}: gather part / ansible all -m ping (rounds {spread(ratios['gather'][size])})",
                        f"{gather:.2f} s", f"{ping:.2f} s", f"{gather / ping:.2f}x",
                        f"<= {GOAL_RATIO:g}x" if goal else "-", verdict(gather / ping <= GOAL_RATIO if goal else None)))

    def growth(what):
        return " : ".join(f"{figures[s][what] / figures[sizes[0]][what]:.1f}" for s in sizes)

    rows.append(Row(f"fleet growth {' -> '.join(map(str, sizes))} hosts (gather; ping)", growth("gather"),
                    growth("ping"), "-", "-", verdict(None)))
    for size in (s for s in sizes if s >= GOAL_SIZE):
        gather, ping = cpu[size]["gather"] / size, cpu[size]["ping"] / size
        rows.append(Row(f"fleet of {size}: controller CPU per host, gather / ping "
                        f"(rounds {spread(cpu_ratios['gather'][size])})",
                        f"{gather:.3f} s", f"{ping:.3f} s", f"{gather / ping:.2f}x", f"<= {GOAL_RATIO:g}x",
                        verdict(gather / ping <= GOAL_RATIO)))
    if args.with_baseline:
        rows.append(Row(f"fleet growth {' -> '.join(map(str, sizes))} hosts (baseline.yml; ping)",
                        growth("baseline"), growth("ping"), "-", "-", verdict(None)))
    write_rows(args.rows, rows)


if __name__ == "__main__":
    main()
