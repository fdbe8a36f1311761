#!/usr/bin/env python3
"""Footprint on the target: what a baseline.yml run costs the host it measures, and what it leaves.

The goal (issue 8): per run without the concurrency test, the modules' processes on the target
peak under 60 MB of memory and use under 0.5 CPU seconds in all, and nothing is left written on
the target. `ansible HOST -m setup` is measured the same way, as a reference, and `-m ping`: a module that
does nothing, what any module run of Ansible costs the target (Python, AnsiballZ, basic.py).

How: for these runs the target's Python interpreter (ansible_python_interpreter, in a copy of the
inventory) is a wrapper copied to /tmp/deploy-baseline-bench on the target; it runs the real
/usr/bin/python3 on the module Ansible pipes to it and logs, per module, the CPU seconds and the
peak resident memory of the module's process and of the commands it waited for (wait4's rusage).
The whole container's CPU time during the run (cgroup v1 cpuacct on this machine) is printed too:
it adds sshd, sudo, and the services answering the probes. What is written: around the first
baseline run, the target's files are listed before and after, and `find -newer` a marker touched
before it lists what was modified, leaving out /proc, /sys, /run, /dev, the journal, /tmp/.ansible*
and the instrument's own folder; what the measured services write while they answer (PostgreSQL
and Redis data, nginx and login logs) is listed apart. It prints figures;
it asserts nothing.

    .venv/bin/python bench/target_footprint.py [--runs 3] [--inventory DIR]

Without --inventory it starts a demo target (testbed/target up bench-one), configures it with
playbooks/demo_target.yml and removes it at the end; bench/run passes the inventory of its own.
"""

import argparse
import collections
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchlib import (
    CONTAINERS_CONF,
    PROJECT,
    TARGET_PYTHON,
    Row,
    ansible_env,
    container_name,
    ignored_failures,
    instrumented_inventory,
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

GOAL_MEMORY_MB = 60
GOAL_CPU_S = 0.5
INSTRUMENT = "/tmp/deploy-baseline-bench"
# What the measured services themselves write while they answer the baseline's questions.
# /dev/shm/PostgreSQL.*: the server's dynamic shared memory, which its backends write while they answer.
SERVICES_WRITE = re.compile(r"^/var/lib/(postgresql/\d+/main|redis)(/|$)|^/var/log/(nginx|postgresql|redis)(/|$)"
                            r"|^/var/log/(wtmp|btmp|lastlog)$|^/dev/shm/PostgreSQL\.\d+$")
FIND_LEAVES_OUT = ["/proc", "/sys", "/run", "/dev", "/var/log/journal", INSTRUMENT]


@dataclass
class Footprint:
    modules: list[dict]  # one record per module process, as the wrapper logged it
    container_cpu_s: float | None

    @property
    def cpu_s(self) -> float:
        return sum(m["cpu_s"] for m in self.modules)

    @property
    def peak_mb(self) -> float:
        return max((m["max_rss_kib"] for m in self.modules), default=0) * 1024 / 1e6


class Target:
    """The demo target's container, reached with podman exec to install and read the instrument."""

    def __init__(self, host: str):
        self.container = container_name(host)
        self.env = dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF)

    def sh(self, script: str, stdin: str | None = None) -> str:
        return subprocess.run(["podman", "exec", "-i", self.container, "sh", "-c", script], input=stdin,
                              env=self.env, capture_output=True, text=True, check=True).stdout

    def install(self) -> None:
        self.sh(f"mkdir -p {INSTRUMENT} && cat > {INSTRUMENT}/python && chmod 755 {INSTRUMENT} {INSTRUMENT}/python"
                f" && : > {INSTRUMENT}/modules.jsonl && chmod 666 {INSTRUMENT}/modules.jsonl",
                stdin=interpreter_wrapper(TARGET_PYTHON, f"{INSTRUMENT}/modules.jsonl"))

    def remove(self) -> None:
        self.sh(f"rm -rf {INSTRUMENT}")

    def take_module_log(self) -> list[dict]:
        return read_module_log(self.sh(f"cat {INSTRUMENT}/modules.jsonl && : > {INSTRUMENT}/modules.jsonl"))

    def cpuacct_s(self) -> float | None:
        """CPU seconds of the whole container so far, where cgroup v1 accounts them; else None."""
        inspect = subprocess.run(["podman", "inspect", "--format", "{{.Id}}", self.container], env=self.env,
                                 capture_output=True, text=True, check=True).stdout.strip()
        for usage in Path("/sys/fs/cgroup/cpuacct").glob(f"**/libpod-{inspect}*/cpuacct.usage"):
            return int(usage.read_text()) / 1e9
        return None

    def paths(self, newer_than_marker: bool = False) -> dict[str, str]:
        """Path -> type (f, d, l, ...) of what the target holds, or of what changed since the marker."""
        prune = " -o ".join(f"-path {path}" for path in FIND_LEAVES_OUT)
        newer = f"-newer {INSTRUMENT}/marker" if newer_than_marker else ""
        out = self.sh(f"find / /tmp /dev/shm -xdev \\( {prune} -o -path '/tmp/.ansible*' \\) -prune -o "
                      f"{newer} -printf '%y %p\\n' 2>/dev/null || true")
        return {line[2:]: line[0] for line in out.splitlines() if len(line) > 2}


@dataclass
class Written:
    """What changed on the target between two listings, what the measured services wrote left out."""
    created: list[str]
    removed: list[str]
    modified_files: list[str]
    modified_directories: list[str]  # entries added or removed, maybe only for a while
    by_services: list[str]

    @classmethod
    def compare(cls, before: dict[str, str], after: dict[str, str], newer: dict[str, str]) -> "Written":
        def ours(paths):
            return sorted(p for p in paths if not SERVICES_WRITE.search(p))

        return cls(created=ours(after.keys() - before.keys()), removed=ours(before.keys() - after.keys()),
                   modified_files=ours(p for p, kind in newer.items() if kind != "d" and p in before),
                   modified_directories=ours(p for p, kind in newer.items() if kind == "d" and p in before),
                   by_services=sorted(p for p in (newer.keys() | (after.keys() ^ before.keys()))
                                      if SERVICES_WRITE.search(p)))

    @property
    def left(self) -> list[str]:
        return self.created + self.removed + self.modified_files

    def print(self) -> None:
        print(f"\nWhat one baseline run changed on the target (listings before and after, find -newer a marker;"
              f" leaving out {', '.join(FIND_LEAVES_OUT)}, /tmp/.ansible*):")
        for title, paths in [("created", self.created), ("removed", self.removed),
                             ("files modified", self.modified_files),
                             ("directories whose entries changed", self.modified_directories),
                             ("written by the measured services (their data and logs)", self.by_services)]:
            print(f"  {title}: {', '.join(paths) if paths else 'none'}")


class Bench:
    def __init__(self, inventory: Path, host: str, work: Path, target: Target):
        self.host, self.work, self.target = host, work, target
        # A copy of the inventory whose target runs its modules through the wrapper.
        self.inventory = instrumented_inventory(inventory, host, work / "inventory", f"{INSTRUMENT}/python")
        self.written: Written | None = None  # what the first baseline run changed on the target

    def measured(self, command: list[str]) -> Footprint:
        self.target.take_module_log()
        before = self.target.cpuacct_s()
        timed(command, env=ansible_env(self.work / "ansible-home"), log=self.work / "run.log")
        if ignored_failures(self.work / "run.log"):
            raise SystemExit("a task failed (ignored by the role), so the run measured less:\n"
                             + (self.work / "run.log").read_text()[-3000:])
        after = self.target.cpuacct_s()
        return Footprint(self.target.take_module_log(), None if before is None else after - before)

    def baseline(self) -> Footprint:
        if self.written is None:
            # ~/.ansible is left by the configuration (playbooks/demo_target.yml); take it away so
            # that a baseline run writing it again shows.
            self.target.sh("rm -rf ~/.ansible ~postgres/.ansible")
            before = self.target.paths()
            self.target.sh(f"touch {INSTRUMENT}/marker")
            run = self._baseline()
            self.written = Written.compare(before, self.target.paths(), self.target.paths(newer_than_marker=True))
            return run
        return self._baseline()

    def _baseline(self) -> Footprint:
        return self.measured([tool("ansible-playbook"), str(PROJECT / "baseline.yml"), "-i", str(self.inventory),
                              "--limit", self.host, "-e", f"baseline_report_dir={self.work / 'reports'}",
                              "-e", '{"baseline_concurrency_test": false}'])

    def setup(self) -> Footprint:
        return self.measured([tool("ansible"), self.host, "-i", str(self.inventory), "-m", "ansible.builtin.setup"])

    def ping(self) -> Footprint:
        """A module that does nothing: what any module run of Ansible costs the target (its floor)."""
        return self.measured([tool("ansible"), self.host, "-i", str(self.inventory), "-m", "ansible.builtin.ping"])


def print_modules(runs: list[Footprint]) -> None:
    cpu, rss = collections.defaultdict(list), collections.defaultdict(list)
    for run in runs:
        per_run = collections.defaultdict(float)
        for module in run.modules:
            per_run[module["module"]] += module["cpu_s"]
            rss[module["module"]].append(module["max_rss_kib"] * 1024 / 1e6)
        for name, seconds in per_run.items():
            cpu[name].append(seconds)
    print(f"\nEach module on the target (median CPU s per run, peak memory over {len(runs)} runs)")
    print(f"{'CPU s':>6}  {'peak MB':>7}  module")
    for name in sorted(cpu, key=lambda n: -median(cpu[n])):
        print(f"{median(cpu[name]):>6.3f}  {max(rss[name]):>7.1f}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of both")
    parser.add_argument("--inventory", help="inventory of a configured demo target (bench/run's)")
    parser.add_argument("--rows", help="write the table's rows there (JSON), for bench/run")
    args = parser.parse_args()

    with single_target(args.inventory) as (inventory, host), \
            tempfile.TemporaryDirectory(prefix="bench-footprint-") as work:
        target = Target(host)
        target.install()
        try:
            bench = Bench(inventory, host, Path(work), target)
            print(f"{host}: baseline.yml against ansible -m setup, {args.runs} rounds, modules run by "
                  f"the wrapper {INSTRUMENT}/python")
            print(f"{'round':>5}  {'what':<8}  {'modules':>7}  {'CPU s':>6}  {'peak MB':>7}  {'container CPU s':>15}")

            def show(number, name, run):
                container = "-" if run.container_cpu_s is None else f"{run.container_cpu_s:.2f}"
                print(f"{number:>5}  {name:<8}  {len(run.modules):>7}  {run.cpu_s:>6.3f}  {run.peak_mb:>7.1f}  "
                      f"{container:>15}", flush=True)

            # The first run is a baseline: the listings before and after it tell what it changed.
            results = interleaved({"baseline": bench.baseline, "setup": bench.setup, "ping": bench.ping}, args.runs,
                                  warmup=False, report=show)
            written = bench.written
        finally:
            target.remove()

    runs, setups, pings = results["baseline"], results["setup"], results["ping"]
    print_modules(runs)
    written.print()

    cpu = median(r.cpu_s for r in runs), median(s.cpu_s for s in setups)
    peak = median(r.peak_mb for r in runs), median(s.peak_mb for s in setups)
    rows = [
        Row("target: modules' peak memory per run", f"{peak[0]:.1f} MB", f"{peak[1]:.1f} MB (setup)",
            f"{peak[0] / peak[1]:.2f}x", f"< {GOAL_MEMORY_MB} MB", verdict(peak[0] < GOAL_MEMORY_MB)),
        Row("target: modules' CPU time per run", f"{cpu[0]:.2f} s", f"{cpu[1]:.2f} s (setup)",
            f"{cpu[0] / cpu[1]:.2f}x", f"< {GOAL_CPU_S} s", verdict(cpu[0] < GOAL_CPU_S)),
        Row("target: ping module's CPU, any module run's floor (context)", f"{median(p.cpu_s for p in pings):.2f} s",
            "-", "-", "-", verdict(None)),
    ]
    if all(r.container_cpu_s is not None for r in runs + setups):
        whole = median(r.container_cpu_s for r in runs), median(s.container_cpu_s for s in setups)
        rows.append(Row("target: whole host's CPU during a run (context)", f"{whole[0]:.2f} s",
                        f"{whole[1]:.2f} s (setup)", f"{whole[0] / whole[1]:.2f}x", "-", verdict(None)))
    left = f"{len(written.left)}" + (f" ({written.left[-1]}{', ...' if len(written.left) > 1 else ''})"
                                     if written.left else "")
    rows.append(Row("target: paths left written by a run", left, "0", "-", "nothing written",
                    verdict(not written.left)))
    write_rows(args.rows, rows)


if __name__ == "__main__":
    main()
