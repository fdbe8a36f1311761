#!/usr/bin/env python3
"""The journal at production size: journal_errors against the system's own tools, on one target.

The goals (issue 13): on a unit that logged 1M lines or more since its start, journal_errors'
counts equal the system tools' reading, its process peaks at 60 MB or less on the target (and
stays flat from 1M to 5M lines), and its wall time is at most 1.2 times that of reading the same
lines with `journalctl -u UNIT --since START -o cat | grep -cE PATTERNS` on the same host.

How: journal_errors runs over SSH as Ansible runs it (ad hoc, the unit's journal since its start,
max_seconds large enough not to cut it), with the target's Python interpreter replaced by a wrapper
that times the module's process on the target and reads its peak memory: its anonymous memory
(RssAnon, what the reading holds, the goal's figure) and VmHWM, which also counts the pages of the
journal files libsystemd maps into it (page cache, as journalctl's peak, shown beside it, does).
The reference runs on the target under a timer (podman exec, not over SSH: its wall time leaves
out the start of a process that ours includes). Both run in turns, the order rotating
(benchlib.interleaved), and the medians are compared. grep -c counts matching lines, not error
events (a logged exception has two), so the counts are compared with an independent count,
untimed: molecule/production/files/system_counts.py (journalctl -o json).

    .venv/bin/python bench/journal_scale.py [--seed-lines 1000000] [--runs 3]
    .venv/bin/python bench/journal_scale.py --inventory DIR --unit tsh_erp-green
    .venv/bin/python bench/journal_scale.py --inventory DIR --seed-lines 5000000

Without --inventory it starts a target (testbed/target up bench-journal), lifts journald's rate
limits, seeds a unit (journal-seed) with --seed-lines lines of busy_app.py, measures it and
removes the target at the end. With --inventory and --seed-lines it seeds journal-seed on that
target once (a file on the target remembers it) and measures that unit. It prints figures; it
asserts nothing.
"""

import argparse
import contextlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

from benchlib import (
    CONTAINERS_CONF,
    PROJECT,
    TARGET_PYTHON,
    TARGET_SCRIPT,
    Row,
    ansible_env,
    container_name,
    interleaved,
    inventory_hosts,
    median,
    terminate_as_exit,
    tool,
    verdict,
    write_rows,
)

GOAL_RATIO = 1.2
GOAL_MEMORY_MB = 60
INSTRUMENT = "/tmp/deploy-baseline-bench-journal"
BUSY_APP = PROJECT / "tests" / "fixtures" / "journal" / "busy_app.py"
SEED_UNIT = "journal-seed"
SYSTEM_COUNTS = PROJECT / "molecule" / "production" / "files" / "system_counts.py"
# Written on the target once a unit is seeded: a target is seeded once for a number of lines.
SEEDED = "/var/lib/deploy-baseline-bench-seeded"
PATTERNS = ["Traceback", "ERROR", "CRITICAL"]

# Ansible runs this as the Python interpreter: it runs the real one on the module, reads the
# module process's own peak memory while it runs, and logs it with the wall time: its anonymous
# memory (RssAnon, sampled every 50 ms: what the reading holds) and VmHWM, which also counts the
# pages of the journal files that libsystemd maps (page cache, shared, as journalctl's are).
WRAPPER = '''#!{real}
import json, os, resource, subprocess, sys, time
args = sys.argv[1:]
payload = None if args else sys.stdin.buffer.read()
started = time.monotonic()
child = subprocess.Popen([{real!r}, *args], stdin=subprocess.PIPE if payload is not None else None)
if payload is not None:
    child.stdin.write(payload)
    child.stdin.close()
hwm_kib, anon_kib, ticks = 0, 0, 0
while child.poll() is None:
    try:
        with open(f"/proc/{{child.pid}}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    hwm_kib = max(hwm_kib, int(line.split()[1]))
                elif line.startswith("RssAnon:"):
                    anon_kib = max(anon_kib, int(line.split()[1]))
        with open(f"/proc/{{child.pid}}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
    except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
        pass
    time.sleep(0.05)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
record = {{"wall_s": time.monotonic() - started, "module_hwm_kib": hwm_kib, "module_anon_kib": anon_kib,
          "module_cpu_s": ticks / os.sysconf("SC_CLK_TCK"), "cpu_s": usage.ru_utime + usage.ru_stime}}
with open({log!r}, "a") as log:
    log.write(json.dumps(record) + "\\n")
sys.exit(child.returncode)
'''

# Runs on the target: the unit's current start as journalctl --since wants it (to the
# microsecond, as journal_errors computes it), then the reference reading, timed, with the peak
# memory of its processes.
REFERENCE = r'''
import json, resource, subprocess, sys, time
unit, pattern = sys.argv[1], sys.argv[2]
entered = int(subprocess.run(["systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", "--value", unit],
                             capture_output=True, text=True, check=True).stdout)
start = time.time_ns() // 1000 - (time.monotonic_ns() // 1000 - entered)
since = f"@{start // 1000000}.{start % 1000000:06d}"
started = time.monotonic()
done = subprocess.run(["sh", "-c", 'journalctl -u "$0" --since "$1" -o cat | grep -cE "$2"', unit, since, pattern],
                      capture_output=True, text=True)
wall = time.monotonic() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
lines = None
if len(sys.argv) > 3:
    lines = int(subprocess.run(["sh", "-c", 'journalctl -u "$0" --since "$1" -o cat | wc -l', unit, since],
                               capture_output=True, text=True, check=True).stdout)
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "count": int(done.stdout.strip() or 0), "since": since, "lines": lines,
                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
'''


class Target:
    def __init__(self, host: str):
        self.container = container_name(host)
        self.env = dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF)

    def sh(self, script: str, stdin: str | None = None, *args: str) -> str:
        return subprocess.run(["podman", "exec", "-i", self.container, "sh", "-c", script, "sh", *args],
                              input=stdin, env=self.env, capture_output=True, text=True, check=True).stdout

    def python(self, code: str, *args: str) -> str:
        return subprocess.run(["podman", "exec", "-i", self.container, TARGET_PYTHON, "-", *args], input=code,
                              env=self.env, capture_output=True, text=True, check=True).stdout


def seed(target: Target, lines: int) -> None:
    """Lift journald's rate limits and log `lines` lines from the unit SEED_UNIT, waiting until
    journald has them all."""
    target.sh("mkdir -p /etc/systemd/journald.conf.d && printf '[Journal]\\nRateLimitBurst=0\\n"
              "RateLimitIntervalSec=0\\nSystemMaxUse=8G\\nSystemMaxFileSize=1G\\n' "
              "> /etc/systemd/journald.conf.d/bench.conf && systemctl restart systemd-journald")
    target.sh(f"cat > {INSTRUMENT}-busy_app.py", BUSY_APP.read_text())
    target.sh(f"systemd-run --unit {SEED_UNIT} -p Type=exec -p LogRateLimitIntervalSec=0 "
              f"{TARGET_PYTHON} -u {INSTRUMENT}-busy_app.py {lines} 1000")
    # busy_app writes `lines` lines (a traceback adds its own), then sleeps: wait for the last one.
    last = f"/api/orders/{lines - 1} HTTP" if (lines - 1) % 1000 != 999 else "out of memory"
    target.sh(f'until journalctl -u {SEED_UNIT} -n 5 -o cat | grep -q "$1"; do sleep 2; done', None, last)
    target.sh(f"echo {lines} > {SEEDED}")


def seed_once(target: Target, lines: int) -> None:
    """Seed SEED_UNIT with `lines` lines unless this target already was (a million lines take
    journald about a minute on 2 quiet cores, 5M five or more)."""
    done = target.sh(f"cat {SEEDED} 2>/dev/null; systemctl is-active {SEED_UNIT} || true").split()
    if done[:1] == [str(lines)] and done[-1:] == ["active"]:
        print(f"{SEED_UNIT}: seeded with {lines:,} lines before, reused", flush=True)
        return
    if done[-1:] == ["active"]:
        target.sh(f"systemctl stop {SEED_UNIT}")
    print(f"seeding {SEED_UNIT} with {lines:,} lines ...", flush=True)
    seed(target, lines)


@contextlib.contextmanager
def seeded_target(lines: int, work: Path):
    """(inventory, host) of a new target seeded with `lines` lines; removed on leaving."""
    name = "bench-journal"
    env = dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF, DEMO_STATE_DIR=str(work / "state"))
    inventory = work / "inventory"
    (inventory / "host_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(f"all: {{hosts: {{{name}: {{}}}}}}\n")
    (inventory / "targets.json").write_text(json.dumps([name]))
    try:
        subprocess.run([str(TARGET_SCRIPT), "up", name, "--inventory", str(inventory / "host_vars" / f"{name}.yml")],
                       env=env, check=True, capture_output=True)
        seed(Target(name), lines)
        yield inventory, name
    finally:
        subprocess.run([str(TARGET_SCRIPT), "down", name], env=env, capture_output=True)


class Bench:
    def __init__(self, inventory: Path, host: str, unit: str, work: Path, max_seconds: float):
        self.host, self.unit, self.work, self.max_seconds = host, unit, work, max_seconds
        self.target = Target(host)
        self.target.sh(f"mkdir -p {INSTRUMENT} && cat > {INSTRUMENT}/python && chmod 755 {INSTRUMENT}/python"
                       f" && : > {INSTRUMENT}/log.jsonl",
                       WRAPPER.format(real=TARGET_PYTHON, log=f"{INSTRUMENT}/log.jsonl"))
        self.inventory = work / "inventory-instrumented"
        (self.inventory / "host_vars").mkdir(parents=True)
        (self.inventory / "hosts.yml").write_text((inventory / "hosts.yml").read_text())
        if (inventory / "group_vars").exists():
            (self.inventory / "group_vars").symlink_to((inventory / "group_vars").resolve())
        text = (inventory / "host_vars" / f"{host}.yml").read_text()
        (self.inventory / "host_vars" / f"{host}.yml").write_text(
            text + f"ansible_python_interpreter: {INSTRUMENT}/python\n")

    def ours(self) -> dict:
        args = json.dumps({"units": [self.unit], "max_seconds": self.max_seconds, "patterns": PATTERNS})
        done = subprocess.run([tool("ansible"), self.host, "-i", str(self.inventory), "-m", "journal_errors",
                               "-a", args, "--one-line"], env=ansible_env(self.work / "ansible-home"),
                              capture_output=True, text=True)
        if done.returncode != 0 or " => " not in done.stdout:
            raise SystemExit(f"journal_errors failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        result = json.loads(done.stdout.split(" => ", 1)[1])["journal_errors"]
        logged = [json.loads(line) for line in self.target.sh(
            f"cat {INSTRUMENT}/log.jsonl && : > {INSTRUMENT}/log.jsonl").splitlines() if line.strip()]
        module = max(logged, key=lambda record: record["wall_s"])  # the module's run, not the facts' probe
        return {"wall_s": module["wall_s"], "cpu_s": module["cpu_s"], "module_cpu_s": module["module_cpu_s"],
                "peak_mb": module["module_anon_kib"] * 1024 / 1e6, "hwm_mb": module["module_hwm_kib"] * 1024 / 1e6,
                "count": result["error_count"], "lines": result["lines_read"], "exact": result["exact"]}

    def events(self) -> dict:
        """The unit's error events counted independently (molecule/production's system_counts.py:
        journalctl -o json, no code of the project), once, untimed: grep -c counts matching lines,
        and a logged exception has two (its line, "Traceback")."""
        return json.loads(self.target.python(SYSTEM_COUNTS.read_text(), self.unit))

    def reference(self, count_lines: bool = False) -> dict:
        extra = ["lines"] if count_lines else []
        return json.loads(self.target.python(REFERENCE, self.unit, "|".join(PATTERNS), *extra))

    def remove(self) -> None:
        self.target.sh(f"rm -rf {INSTRUMENT} {INSTRUMENT}-busy_app.py")


def rows_of(ours: list[dict], reference: list[dict], lines: int, events: dict, journalctl_mb: float) -> list[Row]:
    wall, ref_wall = median([r["wall_s"] for r in ours]), median([r["wall_s"] for r in reference])
    cpu, ref_cpu = median([r["cpu_s"] for r in ours]), median([r["cpu_s"] for r in reference])
    module_cpu = median([r["module_cpu_s"] for r in ours])
    peak, hwm = max(r["peak_mb"] for r in ours), max(r["hwm_mb"] for r in ours)
    counts = {r["count"] for r in ours}
    # A logged exception whose traceback a busy journald stored over 10 ms after its line counts
    # twice in journal_errors, as its notes say; the independent count tells them apart ("split").
    expected = events["error_events"] + events["split"]
    exact = all(r["exact"] for r in ours)
    size = f"{lines / 1e6:.1f}M lines"
    return [
        Row(f"journal {size}: wall, journal_errors vs journalctl -o cat | grep -cE", f"{wall:.1f} s",
            f"{ref_wall:.1f} s", f"{wall / ref_wall:.2f}x", f"<= {GOAL_RATIO}x",
            verdict(wall / ref_wall <= GOAL_RATIO)),
        Row(f"journal {size}: CPU, journal_errors (its own process {module_cpu:.1f} s, with any child) vs the pipeline",
            f"{cpu:.1f} s", f"{ref_cpu:.1f} s", f"{cpu / ref_cpu:.2f}x", "-", "-"),
        Row(f"journal {size}: peak RSS of journal_errors on the target (anonymous; with the mapped journal "
            f"files {hwm:.0f} MB, journalctl's {journalctl_mb:.0f} MB)", f"{peak:.1f} MB", "-", "-",
            f"<= {GOAL_MEMORY_MB} MB", verdict(peak <= GOAL_MEMORY_MB)),
        Row(f"journal {size}: error events, journal_errors vs counted apart (journalctl -o json; "
            f"{events['split']} split)", ", ".join(map(str, sorted(counts))), str(expected), "-", "equal, read whole",
            verdict(exact and counts == {expected})),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", help="an inventory whose first host is the target (else one is started)")
    parser.add_argument("--unit", help=f"the unit whose journal is read (default: {SEED_UNIT}, seeded)")
    parser.add_argument("--seed-lines", type=int, help="lines to seed the unit journal-seed with (default 1M on a "
                        "new target; with --inventory, seeded once per target and number of lines, then reused)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-seconds", type=float, default=600, help="journal_errors' max_seconds")
    parser.add_argument("--no-warmup", action="store_true", help="keep every round (a busy machine, short of time)")
    parser.add_argument("--rows", help="write the table's rows there as JSON (bench/run)")
    args = parser.parse_args()

    with terminate_as_exit(), tempfile.TemporaryDirectory(prefix="bench-journal-") as tmp:
        work = Path(tmp)
        if args.inventory:
            host = inventory_hosts(Path(args.inventory))[0]
            started = contextlib.nullcontext((Path(args.inventory), host))
            if args.seed_lines:
                seed_once(Target(host), args.seed_lines)
        else:
            print(f"starting a target and seeding {args.seed_lines or 1_000_000:,} lines ...", flush=True)
            started = seeded_target(args.seed_lines or 1_000_000, work)
        with started as (inventory, host):
            bench = Bench(inventory, host, args.unit or SEED_UNIT, work, args.max_seconds)
            try:
                whole = bench.reference(count_lines=True)
                events = bench.events()
                print(f"{bench.unit}: {whole['lines']:,} lines since {whole['since']}, {events['error_events']:,} "
                      f"error events ({events['split']} split)", flush=True)
                results = interleaved({"ours": bench.ours, "reference": bench.reference}, args.runs,
                                      warmup=not args.no_warmup,
                                      report=lambda n, name, r: print(f"  round {n} {name}: {r}", flush=True))
            finally:
                bench.remove()
    write_rows(args.rows, rows_of(results["ours"], results["reference"], whole["lines"], events,
                                  whole["peak_kib"] * 1024 / 1e6))


if __name__ == "__main__":
    main()
