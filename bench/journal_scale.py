#!/usr/bin/env python3
"""The journal at production size: journal_errors against the system's own tools, on one target.

The goals (issue 13): on a unit that logged 1M lines or more since its start, journal_errors'
counts equal the system tools' reading, its process peaks at 60 MB or less on the target (and
stays flat from 1M to 5M lines), and its wall time is at most 1.2 times that of reading the same
lines with `journalctl -u UNIT --since START -o cat | grep -cE PATTERNS` on the same host.

How: journal_errors runs over SSH as Ansible runs it (ad hoc, the unit's journal since its start,
max_seconds large enough not to cut it), with the target's Python interpreter replaced by bench's
wrapper (benchlib.interpreter_wrapper), which times the module's process on the target (its
Python's start included) and reads its memory: its peak RSS (VmHWM, the goal's figure), which
counts the pages of the journal files libsystemd maps into the process (page cache, shared with
every reader of the journal and given back under pressure; journalctl's own peak, shown beside it,
counts them too), and the peak of its anonymous memory (RssAnon), what the reading itself holds.
The reference runs on the target under a timer (podman exec, not over SSH: its wall time counts
the start of sh, journalctl and grep, not podman's). Both run in turns, the order rotating
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
    instrumented_inventory,
    interleaved,
    interpreter_wrapper,
    inventory_hosts,
    median,
    read_module_log,
    terminate_as_exit,
    tool,
    verdict,
    write_rows,
)

GOAL_RATIO = 1.2
GOAL_MEMORY_MB = 60
# The memory rows' names, which bench/run reads back for the growth from 1M to 5M lines.
PEAK_RSS = "peak RSS of journal_errors on the target"
PEAK_ANON = "peak anonymous memory of journal_errors on the target"
INSTRUMENT = "/tmp/deploy-baseline-bench-journal"
BUSY_APP = PROJECT / "tests" / "fixtures" / "journal" / "busy_app.py"
SEED_UNIT = "journal-seed"
SYSTEM_COUNTS = PROJECT / "molecule" / "production" / "files" / "system_counts.py"
# Written on the target once a unit is seeded: a target is seeded once for a number of lines.
SEEDED = "/var/lib/deploy-baseline-bench-seeded"
PATTERNS = ["Traceback", "ERROR", "CRITICAL"]

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
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "count": int(done.stdout.strip() or 0), "since": since,
                  "peak_kib": usage.ru_maxrss}))
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
                       interpreter_wrapper(TARGET_PYTHON, f"{INSTRUMENT}/log.jsonl"))
        self.inventory = instrumented_inventory(inventory, host, work / "inventory-instrumented",
                                                f"{INSTRUMENT}/python")

    def ours(self) -> dict:
        args = json.dumps({"units": [self.unit], "max_seconds": self.max_seconds, "patterns": PATTERNS})
        done = subprocess.run([tool("ansible"), self.host, "-i", str(self.inventory), "-m", "journal_errors",
                               "-a", args, "--one-line"], env=ansible_env(self.work / "ansible-home"),
                              capture_output=True, text=True)
        if done.returncode != 0 or " => " not in done.stdout:
            raise SystemExit(f"journal_errors failed:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
        result = json.loads(done.stdout.split(" => ", 1)[1])["journal_errors"]
        module, = [record for record in read_module_log(self.target.sh(
            f"cat {INSTRUMENT}/log.jsonl && : > {INSTRUMENT}/log.jsonl")) if record["module"] == "journal_errors"]
        return {"wall_s": module["wall_s"], "cpu_s": module["cpu_s"],
                "hwm_mb": module["max_rss_kib"] * 1024 / 1e6, "anon_mb": module["max_anon_kib"] * 1024 / 1e6,
                "count": result["error_count"], "lines": result["lines_read"], "exact": result["exact"]}

    def events(self) -> dict:
        """The unit's error events counted independently (molecule/production's system_counts.py:
        journalctl -o json, no code of the project), once, untimed: grep -c counts matching lines,
        and a logged exception has two (its line, "Traceback")."""
        return json.loads(self.target.python(SYSTEM_COUNTS.read_text(), self.unit))

    def reference(self) -> dict:
        return json.loads(self.target.python(REFERENCE, self.unit, "|".join(PATTERNS)))

    def remove(self) -> None:
        self.target.sh(f"rm -rf {INSTRUMENT} {INSTRUMENT}-busy_app.py")


def rows_of(ours: list[dict], reference: list[dict], events: dict) -> list[Row]:
    wall, ref_wall = median([r["wall_s"] for r in ours]), median([r["wall_s"] for r in reference])
    cpu, ref_cpu = median([r["cpu_s"] for r in ours]), median([r["cpu_s"] for r in reference])
    hwm, anon = max(r["hwm_mb"] for r in ours), max(r["anon_mb"] for r in ours)
    journalctl_mb = max(r["peak_kib"] for r in reference) * 1024 / 1e6
    counts = {r["count"] for r in ours}
    exact = all(r["exact"] for r in ours)
    size = f"{events['lines'] / 1e6:.1f}M lines"  # as the independent reading counted them
    return [
        Row(f"journal {size}: wall, journal_errors vs journalctl -o cat | grep -cE", f"{wall:.1f} s",
            f"{ref_wall:.1f} s", f"{wall / ref_wall:.2f}x", f"<= {GOAL_RATIO}x",
            verdict(wall / ref_wall <= GOAL_RATIO)),
        Row(f"journal {size}: CPU, journal_errors vs the pipeline", f"{cpu:.1f} s", f"{ref_cpu:.1f} s",
            f"{cpu / ref_cpu:.2f}x", "-", "-"),
        Row(f"journal {size}: {PEAK_RSS} (VmHWM: with the pages of the journal files libsystemd maps, "
            f"page cache)", f"{hwm:.1f} MB", f"journalctl's {journalctl_mb:.1f} MB", "-", f"<= {GOAL_MEMORY_MB} MB",
            verdict(hwm <= GOAL_MEMORY_MB)),
        Row(f"journal {size}: {PEAK_ANON} (RssAnon, read every 20 ms: what the reading holds itself)",
            f"{anon:.1f} MB", "-", "-", f"<= {GOAL_MEMORY_MB} MB", verdict(anon <= GOAL_MEMORY_MB)),
        Row(f"journal {size}: error events, journal_errors vs counted apart (journalctl -o json; "
            f"{events['stored_apart']} tracebacks stored over 10 ms after their line, up to "
            f"{events['longest_apart_ms']:g} ms)", ", ".join(map(str, sorted(counts))), str(events["error_events"]),
            "-", "equal, read whole", verdict(exact and counts == {events["error_events"]})),
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
                events = bench.events()
                print(f"{bench.unit}: {events['lines']:,} lines since {events['since']}, {events['error_events']:,} "
                      f"error events ({events['stored_apart']} tracebacks stored apart)", flush=True)
                results = interleaved({"ours": bench.ours, "reference": bench.reference}, args.runs,
                                      warmup=not args.no_warmup,
                                      report=lambda n, name, r: print(f"  round {n} {name}: {r}", flush=True))
            finally:
                bench.remove()
    write_rows(args.rows, rows_of(results["ours"], results["reference"], events))


if __name__ == "__main__":
    main()
