#!/usr/bin/env python3
"""One host: what a baseline.yml run costs against `ansible HOST -m setup`, and where its time goes.

The goal (issue 8): a full `ansible-playbook baseline.yml` run (without the concurrency test, with
the default warm sample count) on one demo target over SSH costs at most 1.5x the wall time of
`ansible HOST -m setup` on the same target. Both run in turn (a setup first, not kept, opens the
SSH connection; then rounds alternating which goes first); the figure is the ratio of the medians.

Where the time goes: every baseline run records when each task started and ended (the
task_times callback of bench/callback_plugins, enabled only here), so the script prints each
task's median duration and sums them by where the work happens: a module on the target (one SSH
round trip), a module on the controller (one local Python process), the controller alone
(set_fact, debug: templating), Ansible's start-up and the time between tasks. One more run, with
the controller's Python interpreter replaced by a wrapper that logs each local module's resource
usage, splits the controller's CPU time between ansible-playbook itself and the local modules.
With --py-spy PATH, a last run is sampled by py-spy (all processes), and the hottest functions are
printed. It prints figures; it asserts nothing.

    .venv/bin/python bench/baseline_cost.py [--runs 5] [--inventory DIR] [--py-spy /tmp/py-spy/bin/py-spy]

Without --inventory it starts a demo target (testbed/target up bench-one), configures it with
playbooks/demo_target.yml and removes it at the end; bench/run passes the inventory of its own.
"""

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    PROJECT,
    VENV_BIN,
    Row,
    Timing,
    ansible_env,
    ignored_failures,
    interleaved,
    interpreter_wrapper,
    median,
    read_module_log,
    single_target,
    timed,
    tool,
    verdict,
    write_rows,
)

GOAL_RATIO = 1.5
# Actions that run no module: the controller does them alone (templating, variables, messages).
CONTROLLER_ACTIONS = {"set_fact", "debug", "set_stats", "fail", "assert", "validate_argument_spec", "meta",
                      "include_vars", "include_tasks", "import_tasks", "include_role", "add_host", "group_by"}
# The project's action plugins that work in the task's own process on the controller (http_probe
# only on a local connection: the role's public probe).
IN_PROCESS_ACTIONS = {"baseline_lock", "baseline_files"}
WHERE = {
    "target": "modules on the target (an SSH round trip each)",
    "controller": "modules on the controller (a local Python process each)",
    "in-process": "action plugins in the task's process (lock, public probe, report files)",
    "templating": "controller alone (set_fact, debug: templating)",
    "skipped": "skipped tasks (conditions evaluated)",
}


@dataclass
class Run:
    timing: Timing
    tasks: dict  # what the task_times callback wrote


class Bench:
    def __init__(self, inventory: Path, host: str, work: Path):
        self.inventory, self.host, self.work = inventory, host, work
        self.count = 0

    def baseline_command(self, inventory: Path | None = None) -> list[str]:
        return [tool("ansible-playbook"), str(PROJECT / "baseline.yml"), "-i", str(inventory or self.inventory),
                "--limit", self.host, "-e", f"baseline_report_dir={self.work / 'reports'}",
                "-e", '{"baseline_concurrency_test": false}']

    def baseline(self, inventory: Path | None = None) -> Run:
        self.count += 1
        times = self.work / f"tasks-{self.count}.json"
        timing = timed(self.baseline_command(inventory), env=ansible_env(self.work / "ansible-home", times),
                       log=self.work / "baseline.log")
        if ignored_failures(self.work / "baseline.log"):
            raise SystemExit("a task of the baseline failed (ignored by the role), so the run measured less:\n"
                             + (self.work / "baseline.log").read_text()[-3000:])
        return Run(timing, json.loads(times.read_text()))

    def setup(self) -> Timing:
        return timed([tool("ansible"), self.host, "-i", str(self.inventory), "-m", "ansible.builtin.setup"],
                     env=ansible_env(self.work / "ansible-home"), log=self.work / "setup.log")


# Where a run's time goes ------------------------------------------------------------------------

def task_where(task: dict) -> str:
    hosts = task["hosts"].values()
    if all(h.get("status") == "skipped" for h in hosts):
        return "skipped"
    action = task["action"].rsplit(".", 1)[-1]
    if action in CONTROLLER_ACTIONS:
        return "templating"
    delegated = any(h.get("delegated_to") in ("localhost", "127.0.0.1") for h in hosts)
    if action in IN_PROCESS_ACTIONS or (action == "http_probe" and delegated):
        return "in-process"
    if delegated:
        return "controller"
    return "target"


def task_end(task: dict) -> float:
    ends = [h["end"] for h in task["hosts"].values() if "end" in h]
    return max(ends, default=task["start"])


def breakdown(run: Run) -> tuple[dict[str, float], list[tuple[str, str, float]]]:
    """Seconds of the run by where they went (adding up to its wall time), and each task's seconds."""
    tasks, times = run.tasks["tasks"], run.tasks
    parts = dict.fromkeys(["start-up: Python, Ansible, inventory, playbook", "play and role loading",
                           *WHERE.values(), "between tasks (strategy, results)", "end: recap, clean-up, exit"], 0.0)
    parts["start-up: Python, Ansible, inventory, playbook"] = times["playbook_start"] - run.timing.started
    parts["play and role loading"] = (tasks[0]["start"] if tasks else times["end"]) - times["playbook_start"]
    spans, previous_end = [], None
    for task in tasks:
        if previous_end is not None:
            parts["between tasks (strategy, results)"] += task["start"] - previous_end
        seconds = task_end(task) - task["start"]
        where = task_where(task)
        parts[WHERE[where]] += seconds
        spans.append((task["name"], where, seconds))
        previous_end = task_end(task)
    parts["end: recap, clean-up, exit"] = run.timing.started + run.timing.wall_s - times["end"]
    if tasks:
        parts["between tasks (strategy, results)"] += times["end"] - task_end(tasks[-1])
    return parts, spans


def print_breakdown(runs: list[Run]) -> None:
    per_run = [breakdown(run) for run in runs]
    wall = median(run.timing.wall_s for run in runs)
    print(f"\nWhere a baseline run's time goes (median of {len(runs)} runs; wall {wall:.2f} s)")
    print(f"{'seconds':>8} {'share':>6}  part")
    for part in per_run[0][0]:
        seconds = median(parts.get(part, 0.0) for parts, _ in per_run)
        print(f"{seconds:>8.2f} {seconds / wall:>6.0%}  {part}")
    counts = collections.Counter(where for _, where, _ in per_run[0][1])
    print("tasks: " + ", ".join(f"{counts[w]} {WHERE[w].split(' (')[0]}" for w in WHERE if counts[w]))

    print(f"\nEach task (median seconds over {len(runs)} runs, from its start to its last host's end)")
    print(f"{'seconds':>8}  {'where':<10}  task")
    for index, (name, where, _) in enumerate(per_run[0][1]):
        seconds = median(spans[index][2] for _, spans in per_run if index < len(spans))
        print(f"{seconds:>8.2f}  {where:<10}  {name}")


# The controller's CPU: ansible-playbook itself against the local module processes ---------------

def controller_split(bench: Bench) -> None:
    """One baseline run with a logging interpreter for localhost: how much CPU the local modules take."""
    inventory = bench.work / "inventory-controller"
    log = bench.work / "local-modules.jsonl"
    wrapper = bench.work / "python-wrapper"
    real = str(VENV_BIN / "python3") if (VENV_BIN / "python3").exists() else sys.executable
    wrapper.write_text(interpreter_wrapper(real, str(log)))
    wrapper.chmod(0o755)
    inventory.mkdir()
    for entry in bench.inventory.iterdir():
        (inventory / entry.name).symlink_to(entry.resolve())
    (inventory / "host_vars").unlink()
    (inventory / "host_vars").mkdir()
    for entry in (bench.inventory / "host_vars").iterdir():
        (inventory / "host_vars" / entry.name).symlink_to(entry.resolve())
    (inventory / "host_vars" / "localhost.yml").write_text(f"ansible_python_interpreter: {wrapper}\n")
    run = bench.baseline(inventory)
    modules = read_module_log(log.read_text()) if log.exists() else []  # none: every local task ran in-process
    local_cpu = sum(m["cpu_s"] for m in modules)
    by_module = collections.defaultdict(list)
    for module in modules:
        by_module[module["module"]].append(module["cpu_s"])
    print("\nThe controller's CPU in one baseline run (local modules measured by a logging interpreter)")
    print(f"{run.timing.cpu_s:>6.2f} s  all processes of the run (wall {run.timing.wall_s:.2f} s)")
    print(f"{local_cpu:>6.2f} s  {len(modules)} local module processes: "
          + ", ".join(f"{name} {len(cpu)}x {sum(cpu):.2f} s" for name, cpu in sorted(by_module.items())))
    print(f"{run.timing.cpu_s - local_cpu:>6.2f} s  ansible-playbook itself (main process, workers, ssh clients)")


# py-spy -------------------------------------------------------------------------------------------

def process_kind(frame: str, depth: int) -> str:
    module = re.search(r"AnsiballZ_(\w+)", frame)
    if module:
        return f"local module {module.group(1)}"
    if "ansible-playbook" in frame:
        return "ansible-playbook main process" if depth == 1 else "ansible-playbook workers (one fork per task)"
    return frame.split(":", 1)[-1][:60]


def py_spy_profile(bench: Bench, py_spy: str, rate: int = 100) -> None:
    """Sample one baseline run with py-spy and print where the controller's processes spent it."""
    raw = bench.work / "py-spy.txt"
    command = [py_spy, "record", "--subprocesses", "--format", "raw", "--rate", str(rate), "-o", str(raw),
               "--", *bench.baseline_command()]
    subprocess.run(command, env=ansible_env(bench.work / "ansible-home"), check=True, capture_output=True)
    by_kind, functions = collections.Counter(), collections.Counter()
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        kind = process_kind(processes[-1], len(processes))
        by_kind[kind] += int(count)
        own = frames[frames.index(processes[-1]) + 1:]
        for frame in {re.sub(r" \(.*/(ansible/.*|[^/]*)\)$", r" (\1)", f) for f in own}:
            functions[frame] += int(count)
    print(f"\npy-spy: samples of one baseline run at {rate} Hz, all processes (seconds sampled)")
    for kind, count in by_kind.most_common():
        print(f"{count / rate:>7.2f} s  {kind}")
    generic = ("<module>", "main (", "run (", "_bootstrap", "start (", "_Popen", "_launch", "__init__ (",
               "cli_executor", "_find_and_load", "_load_unlocked", "_call_with_frames", "exec_module",
               "_execute (", "_run (", "_handle_fromlist")
    print("hottest functions, inclusive (seconds sampled):")
    shown = 0
    for frame, count in functions.most_common():
        if any(word in frame for word in generic):
            continue
        print(f"{count / rate:>7.2f} s  {frame}")
        shown += 1
        if shown == 25:
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds of both")
    parser.add_argument("--inventory", help="inventory of a configured demo target (bench/run's)")
    parser.add_argument("--py-spy", help="path of py-spy: also profile one run with it")
    parser.add_argument("--rows", help="write the table's rows there (JSON), for bench/run")
    args = parser.parse_args()

    with single_target(args.inventory) as (inventory, host), \
            tempfile.TemporaryDirectory(prefix="bench-baseline-") as work:
        bench = Bench(inventory, host, Path(work))
        print(f"{host}: baseline.yml against ansible -m setup, {args.runs} rounds after a setup to warm up, "
              "alternating which goes first")
        print(f"{'round':>5}  {'what':<8}  {'wall s':>7}  {'CPU s':>6}")

        def show(number, name, result):
            timing = result.timing if isinstance(result, Run) else result
            print(f"{number:>5}  {name:<8}  {timing.wall_s:>7.2f}  {timing.cpu_s:>6.2f}", flush=True)

        started = time.monotonic()
        # A setup first opens the SSH connection and warms the page cache; both then find them so.
        results = interleaved({"baseline": bench.baseline, "setup": bench.setup}, args.runs, warmup=["setup"],
                              report=show)
        runs, setups = results["baseline"], results["setup"]
        wall = median(r.timing.wall_s for r in runs), median(t.wall_s for t in setups)
        cpu = median(r.timing.cpu_s for r in runs), median(t.cpu_s for t in setups)
        print(f"medians: baseline {wall[0]:.2f} s wall, {cpu[0]:.2f} s CPU; setup {wall[1]:.2f} s wall, "
              f"{cpu[1]:.2f} s CPU; wall ratio {wall[0] / wall[1]:.2f} (goal <= {GOAL_RATIO}), "
              f"CPU ratio {cpu[0] / cpu[1]:.2f}  [{time.monotonic() - started:.0f} s]")
        print_breakdown(runs)
        controller_split(bench)
        if args.py_spy:
            py_spy_profile(bench, args.py_spy)

    ratio = wall[0] / wall[1]
    write_rows(args.rows, [
        Row("one host: baseline.yml / ansible -m setup, wall", f"{wall[0]:.2f} s", f"{wall[1]:.2f} s",
            f"{ratio:.2f}x", f"<= {GOAL_RATIO}x", verdict(ratio <= GOAL_RATIO)),
        Row("one host: controller CPU (context)", f"{cpu[0]:.2f} s", f"{cpu[1]:.2f} s",
            f"{cpu[0] / cpu[1]:.2f}x", "-", verdict(None)),
    ])


if __name__ == "__main__":
    main()
